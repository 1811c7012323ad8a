// DocRED's relation-extraction metric (erica.md "DocRED format and metric"), as the
// official evaluation script computes it:
//  - F1: micro-averaged over unique (title, h, t, r) facts. Duplicate predictions are
//    counted once; predictions for titles not in the gold set stay in the prediction
//    count (they are simply wrong).
//  - Ign F1: a correct prediction whose (head mention name, tail mention name, r)
//    occurs among the training set's facts -- any mention-name pair of a training
//    fact's two entities -- is removed from the numerator and from the prediction
//    count of precision; recall is unchanged.
// Every ratio whose denominator is zero is 0 (the official script would divide by zero).
//
// The eval layer depends only on core, so the gold side is a minimal copy of what the
// metric needs (titles, mention names, labels); tasks convert data::Document to it.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace cotrain::eval {

struct DocredFact {
  int64_t h = 0;
  int64_t t = 0;
  std::string r;  // relation id, e.g. "P17"
};

struct DocredGoldDocument {
  std::string title;
  std::vector<std::vector<std::string>> entity_mention_names;  // entity -> its mentions' names
  std::vector<DocredFact> labels;
};

// One line of DocRED's submission format {title, h_idx, t_idx, r, evidence}.
struct DocredPrediction {
  std::string title;
  int64_t h_idx = 0;
  int64_t t_idx = 0;
  std::string r;
  std::vector<int64_t> evidence;  // sentence ids; empty when absent
};

// (head mention name, tail mention name, relation)
using DocredTrainFacts = std::set<std::tuple<std::string, std::string, std::string>>;

// Every (head mention name, tail mention name, r) of every label of `train`.
// A label whose entity index is out of range is a cotrain::Error.
DocredTrainFacts docred_train_facts(const std::vector<DocredGoldDocument>& train);

struct DocredScore {
  size_t predictions = 0;       // unique (title, h, t, r) predicted
  size_t gold = 0;              // unique (title, h, t, r) in the gold set
  size_t correct = 0;           // in both
  size_t correct_in_train = 0;  // correct ones whose mention-name fact occurs in train
  double precision = 0, recall = 0, f1 = 0;
  double ign_precision = 0, ign_f1 = 0;  // recall is the same as above
};

// Scores `predictions` against `gold`. Gold documents must have distinct titles and
// label indices within their entity lists (else cotrain::Error); predictions may say
// anything (unknown titles, out-of-range indices are just wrong).
DocredScore score_docred(const std::vector<DocredGoldDocument>& gold,
                         const std::vector<DocredPrediction>& predictions,
                         const DocredTrainFacts& train_facts);

// Parses a JSON list of predictions; `source` names the file in errors, which read
// "SOURCE: record I: PROBLEM". `r` may be a string or an integer ("17").
std::vector<DocredPrediction> parse_docred_predictions(const std::string& text, const std::string& source);
std::vector<DocredPrediction> read_docred_predictions(const std::string& path);

// The submission-format JSON list (evidence always written, possibly empty).
std::string docred_predictions_json(const std::vector<DocredPrediction>& predictions);
void write_docred_predictions(const std::string& path, const std::vector<DocredPrediction>& predictions);

}  // namespace cotrain::eval
