#include "cotrain/tasks/unimo_tfidf.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace cotrain::tasks {

std::vector<std::string> tfidf_terms(const std::string& text) {
  std::vector<std::string> terms;
  std::string current;
  for (unsigned char c : text) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c >= 0x80) {
      current.push_back(static_cast<char>(c));
    } else if (c >= 'A' && c <= 'Z') {
      current.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (!current.empty()) {
      terms.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) terms.push_back(std::move(current));
  return terms;
}

namespace {
// Term counts of a text, with ids from `ids` (adding new terms when `grow`).
std::map<int64_t, int64_t> count_terms(const std::string& text, std::unordered_map<std::string, int64_t>& ids,
                                       bool grow) {
  std::map<int64_t, int64_t> counts;
  for (const auto& t : tfidf_terms(text)) {
    auto it = ids.find(t);
    if (it == ids.end()) {
      if (!grow) continue;
      it = ids.emplace(t, static_cast<int64_t>(ids.size())).first;
    }
    ++counts[it->second];
  }
  return counts;
}
std::map<int64_t, int64_t> lookup_terms(const std::string& text, const std::unordered_map<std::string, int64_t>& ids) {
  std::map<int64_t, int64_t> counts;
  for (const auto& t : tfidf_terms(text)) {
    auto it = ids.find(t);
    if (it != ids.end()) ++counts[it->second];
  }
  return counts;
}
}  // namespace

TfidfIndex::TfidfIndex(const std::vector<std::string>& documents) {
  std::vector<std::map<int64_t, int64_t>> counts;
  counts.reserve(documents.size());
  for (const auto& d : documents) counts.push_back(count_terms(d, term_ids_, true));
  std::vector<int64_t> df(term_ids_.size(), 0);
  for (const auto& c : counts)
    for (const auto& [t, n] : c) ++df[static_cast<size_t>(t)];
  const double n_docs = static_cast<double>(documents.size());
  idf_.resize(df.size());
  for (size_t t = 0; t < df.size(); ++t) idf_[t] = std::log((1.0 + n_docs) / (1.0 + static_cast<double>(df[t]))) + 1.0;
  postings_.resize(df.size());
  docs_.reserve(counts.size());
  for (size_t d = 0; d < counts.size(); ++d) {
    Vector v;
    double norm = 0;
    for (const auto& [t, n] : counts[d]) {
      const double w = (1.0 + std::log(static_cast<double>(n))) * idf_[static_cast<size_t>(t)];
      v.emplace_back(t, static_cast<float>(w));
      norm += w * w;
    }
    norm = std::sqrt(norm);
    for (auto& [t, w] : v) {
      w = static_cast<float>(w / norm);
      postings_[static_cast<size_t>(t)].emplace_back(static_cast<int64_t>(d), w);
    }
    docs_.push_back(std::move(v));
  }
}

TfidfIndex::Vector TfidfIndex::vectorize(const std::string& text) const {
  Vector v;
  double norm = 0;
  for (const auto& [t, n] : lookup_terms(text, term_ids_)) {
    const double w = (1.0 + std::log(static_cast<double>(n))) * idf_[static_cast<size_t>(t)];
    v.emplace_back(t, static_cast<float>(w));
    norm += w * w;
  }
  if (norm > 0)
    for (auto& [t, w] : v) w = static_cast<float>(w / std::sqrt(norm));
  return v;
}

double TfidfIndex::dot(const Vector& a, const Vector& b) {
  double s = 0;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].first < b[j].first) ++i;
    else if (a[i].first > b[j].first) ++j;
    else s += static_cast<double>(a[i++].second) * b[j++].second;
  }
  return s;
}

std::vector<TfidfIndex::Hit> TfidfIndex::search_all(const Vector& query) const {
  std::unordered_map<int64_t, double> scores;
  for (const auto& [t, w] : query)
    for (const auto& [d, dw] : postings_[static_cast<size_t>(t)]) scores[d] += static_cast<double>(w) * dw;
  std::vector<Hit> hits;
  hits.reserve(scores.size());
  for (const auto& [d, s] : scores)
    if (s > 0) hits.push_back({d, s});
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.document < b.document;
  });
  return hits;
}

}  // namespace cotrain::tasks
