// DocRED metric and submission-file I/O; see docred_metric.h for the definitions.
#include "cotrain/eval/docred_metric.h"

#include <map>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"

namespace cotrain::eval {
namespace {

using json = nlohmann::json;
using FactKey = std::tuple<std::string, int64_t, int64_t, std::string>;  // title, h, t, r

bool in_range(int64_t index, size_t size) { return index >= 0 && static_cast<size_t>(index) < size; }

void check_label(const DocredGoldDocument& doc, size_t doc_index, size_t label_index, const char* what) {
  const DocredFact& l = doc.labels[label_index];
  const size_t n = doc.entity_mention_names.size();
  if (!in_range(l.h, n) || !in_range(l.t, n))
    fail("docred {}: document {} ('{}'): label {}: entity index ({}, {}) out of range for {} entities", what,
         doc_index, doc.title, label_index, l.h, l.t, n);
}

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }
double harmonic(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

}  // namespace

DocredTrainFacts docred_train_facts(const std::vector<DocredGoldDocument>& train) {
  DocredTrainFacts facts;
  for (size_t d = 0; d < train.size(); ++d) {
    const DocredGoldDocument& doc = train[d];
    for (size_t i = 0; i < doc.labels.size(); ++i) {
      check_label(doc, d, i, "train");
      const DocredFact& l = doc.labels[i];
      for (const std::string& head : doc.entity_mention_names[l.h])
        for (const std::string& tail : doc.entity_mention_names[l.t]) facts.emplace(head, tail, l.r);
    }
  }
  return facts;
}

DocredScore score_docred(const std::vector<DocredGoldDocument>& gold,
                         const std::vector<DocredPrediction>& predictions,
                         const DocredTrainFacts& train_facts) {
  std::map<std::string, const DocredGoldDocument*> by_title;
  std::set<FactKey> gold_facts;
  for (size_t d = 0; d < gold.size(); ++d) {
    const DocredGoldDocument& doc = gold[d];
    // Predictions name documents by title only, so two gold documents with one title
    // would make the score ambiguous.
    if (!by_title.emplace(doc.title, &doc).second)
      fail("docred gold: document {}: title '{}' occurs more than once", d, doc.title);
    for (size_t i = 0; i < doc.labels.size(); ++i) {
      check_label(doc, d, i, "gold");
      const DocredFact& l = doc.labels[i];
      gold_facts.emplace(doc.title, l.h, l.t, l.r);
    }
  }

  std::set<FactKey> predicted;
  for (const DocredPrediction& p : predictions) predicted.emplace(p.title, p.h_idx, p.t_idx, p.r);

  DocredScore s;
  s.predictions = predicted.size();
  s.gold = gold_facts.size();
  for (const FactKey& key : predicted) {
    if (!gold_facts.count(key)) continue;
    ++s.correct;
    // A gold fact's indices were checked above, so these lookups are in range.
    const auto& [title, h, t, r] = key;
    const DocredGoldDocument& doc = *by_title.at(title);
    bool seen_in_train = false;
    for (const std::string& head : doc.entity_mention_names[h]) {
      for (const std::string& tail : doc.entity_mention_names[t])
        if (train_facts.count({head, tail, r})) { seen_in_train = true; break; }
      if (seen_in_train) break;
    }
    if (seen_in_train) ++s.correct_in_train;
  }

  s.precision = ratio(s.correct, s.predictions);
  s.recall = ratio(s.correct, s.gold);
  s.f1 = harmonic(s.precision, s.recall);
  s.ign_precision = ratio(s.correct - s.correct_in_train, s.predictions - s.correct_in_train);
  s.ign_f1 = harmonic(s.ign_precision, s.recall);
  return s;
}

std::vector<DocredPrediction> parse_docred_predictions(const std::string& text, const std::string& source) {
  json all;
  try {
    all = json::parse(text);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", source, e.what());
  }
  if (!all.is_array()) fail("{}: expected a JSON list of predictions, got {}", source, all.type_name());

  std::vector<DocredPrediction> out;
  out.reserve(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const json& rec = all[i];
    if (!rec.is_object()) fail("{}: record {}: expected an object, got {}", source, i, rec.type_name());
    auto member = [&](const char* key) -> const json& {
      auto it = rec.find(key);
      if (it == rec.end()) fail("{}: record {}: missing \"{}\"", source, i, key);
      return *it;
    };
    auto index = [&](const json& v, const std::string& what) -> int64_t {
      if (!v.is_number_integer() || v.get<int64_t>() < 0)
        fail("{}: record {}: {} must be a non-negative integer, got {}", source, i, what, v.dump());
      return v.get<int64_t>();
    };
    DocredPrediction p;
    const json& title = member("title");
    if (!title.is_string()) fail("{}: record {}: title must be a string, got {}", source, i, title.dump());
    p.title = title.get<std::string>();
    p.h_idx = index(member("h_idx"), "h_idx");
    p.t_idx = index(member("t_idx"), "t_idx");
    const json& r = member("r");
    if (r.is_string()) p.r = r.get<std::string>();
    else if (r.is_number_integer()) p.r = std::to_string(r.get<int64_t>());
    else fail("{}: record {}: r must be a string or an integer, got {}", source, i, r.dump());
    auto ev = rec.find("evidence");
    if (ev != rec.end() && !ev->is_null()) {
      if (!ev->is_array()) fail("{}: record {}: evidence must be a list, got {}", source, i, ev->dump());
      for (size_t k = 0; k < ev->size(); ++k) p.evidence.push_back(index((*ev)[k], fmt::format("evidence[{}]", k)));
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<DocredPrediction> read_docred_predictions(const std::string& path) {
  return parse_docred_predictions(read_whole_file(path), path);
}

std::string docred_predictions_json(const std::vector<DocredPrediction>& predictions) {
  json all = json::array();
  for (const DocredPrediction& p : predictions)
    all.push_back({{"title", p.title}, {"h_idx", p.h_idx}, {"t_idx", p.t_idx}, {"r", p.r}, {"evidence", p.evidence}});
  return all.dump() + "\n";
}

void write_docred_predictions(const std::string& path, const std::vector<DocredPrediction>& predictions) {
  write_file_atomically(path, docred_predictions_json(predictions));
}

}  // namespace cotrain::eval
