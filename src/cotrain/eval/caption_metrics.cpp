#include "cotrain/eval/caption_metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>

#include "cotrain/core/error.h"

namespace cotrain::eval {

namespace {

using Ngram = std::vector<std::string>;
using Counts = std::map<Ngram, double>;

Counts ngram_counts(const Tokens& t, size_t n) {
  Counts c;
  for (size_t i = 0; i + n <= t.size(); ++i) c[Ngram(t.begin() + static_cast<std::ptrdiff_t>(i), t.begin() + static_cast<std::ptrdiff_t>(i + n))] += 1;
  return c;
}

void check_sizes(const std::vector<Tokens>& candidates, const std::vector<std::vector<Tokens>>& references) {
  if (candidates.size() != references.size())
    fail("caption metrics: {} candidates but {} reference sets", candidates.size(), references.size());
  for (size_t i = 0; i < references.size(); ++i)
    if (references[i].empty()) fail("caption metrics: image {} has no reference", i);
}

}  // namespace

Tokens caption_tokens(const std::string& text) {
  Tokens out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(word);
    word.clear();
  };
  for (char ch : text) {
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
      flush();
    } else if (std::string(".,:;!?\"'()").find(ch) != std::string::npos) {
      continue;  // removed, not a separator ("don't" -> "dont")
    } else {
      word.push_back(ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch);
    }
  }
  flush();
  return out;
}

BleuScore corpus_bleu(const std::vector<Tokens>& candidates, const std::vector<std::vector<Tokens>>& references) {
  check_sizes(candidates, references);
  BleuScore s;
  std::array<double, 4> clipped{}, total{};
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Tokens& c = candidates[i];
    s.candidate_length += static_cast<double>(c.size());
    // Closest reference length, the shorter on ties.
    size_t best = references[i].front().size();
    for (const auto& r : references[i]) {
      const long d = std::labs(static_cast<long>(r.size()) - static_cast<long>(c.size()));
      const long bd = std::labs(static_cast<long>(best) - static_cast<long>(c.size()));
      if (d < bd || (d == bd && r.size() < best)) best = r.size();
    }
    s.reference_length += static_cast<double>(best);
    for (size_t n = 1; n <= 4; ++n) {
      Counts max_ref;
      for (const auto& r : references[i])
        for (const auto& [g, k] : ngram_counts(r, n)) max_ref[g] = std::max(max_ref[g], k);
      for (const auto& [g, k] : ngram_counts(c, n)) {
        total[n - 1] += k;
        auto it = max_ref.find(g);
        if (it != max_ref.end()) clipped[n - 1] += std::min(k, it->second);
      }
    }
  }
  const double c = s.candidate_length, r = s.reference_length;
  s.brevity_penalty = c > r ? 1.0 : (c == 0 ? 0.0 : std::exp(1.0 - r / c));
  double log_sum = 0;
  bool zero = false;
  for (size_t n = 0; n < 4; ++n) {
    s.precision[n] = total[n] > 0 ? clipped[n] / total[n] : 0.0;
    if (s.precision[n] <= 0) zero = true;
    log_sum += zero ? 0.0 : std::log(s.precision[n]);
    s.bleu[n] = zero ? 0.0 : s.brevity_penalty * std::exp(log_sum / static_cast<double>(n + 1));
  }
  return s;
}

CiderScore corpus_cider_d(const std::vector<Tokens>& candidates, const std::vector<std::vector<Tokens>>& references,
                          double sigma) {
  check_sizes(candidates, references);
  CiderScore s;
  if (candidates.empty()) return s;
  const double log_images = std::log(static_cast<double>(candidates.size()));
  // Document frequency: images whose references contain the n-gram.
  std::map<Ngram, double> df;
  for (const auto& refs : references) {
    std::set<Ngram> seen;
    for (const auto& r : refs)
      for (size_t n = 1; n <= 4; ++n)
        for (const auto& item : ngram_counts(r, n)) seen.insert(item.first);
    for (const auto& g : seen) df[g] += 1;
  }
  struct Vec {
    std::array<Counts, 4> g;
    std::array<double, 4> norm{};
    double length = 0;
  };
  auto vectorize = [&](const Tokens& t) {
    Vec v;
    v.length = static_cast<double>(t.size());
    for (size_t n = 1; n <= 4; ++n) {
      for (const auto& [g, k] : ngram_counts(t, n)) {
        auto it = df.find(g);
        const double w = k * (log_images - std::log(std::max(1.0, it == df.end() ? 0.0 : it->second)));
        v.g[n - 1][g] = w;
        v.norm[n - 1] += w * w;
      }
      v.norm[n - 1] = std::sqrt(v.norm[n - 1]);
    }
    return v;
  };
  double sum = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Vec c = vectorize(candidates[i]);
    double image_score = 0;
    for (const auto& ref : references[i]) {
      const Vec r = vectorize(ref);
      const double delta = c.length - r.length;
      const double penalty = std::exp(-(delta * delta) / (2.0 * sigma * sigma));
      double over_n = 0;
      for (size_t n = 0; n < 4; ++n) {
        double dot = 0;
        for (const auto& [g, w] : c.g[n]) {
          auto it = r.g[n].find(g);
          if (it != r.g[n].end()) dot += std::min(w, it->second) * it->second;
        }
        if (c.norm[n] != 0 && r.norm[n] != 0) dot /= c.norm[n] * r.norm[n];
        else dot = 0;
        over_n += dot * penalty;
      }
      image_score += over_n / 4.0;
    }
    image_score = image_score / static_cast<double>(references[i].size()) * 10.0;
    s.per_image.push_back(image_score);
    sum += image_score;
  }
  s.cider_d = sum / static_cast<double>(candidates.size());
  return s;
}

}  // namespace cotrain::eval
