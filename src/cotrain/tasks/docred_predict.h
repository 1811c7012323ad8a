// Inference of the document-level RE model: the probability of every (pair,
// relation) of a corpus, the decision threshold that maximises F1 on labelled
// documents (DocRED's "theta" chosen on dev), predictions in DocRED's submission
// format and their scores (eval/docred_metric.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cotrain/eval/docred_metric.h"
#include "cotrain/tasks/docred_head.h"
#include "cotrain/tasks/docred_re_data.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::tasks {

struct DocredCandidate {
  int64_t doc = 0;         // corpus document
  int64_t h_idx = 0, t_idx = 0;  // vertexSet indices
  int64_t cls = 0;         // relation class >= 1
  float prob = 0;          // sigmoid of the logit
};

// Every ordered pair of surviving entities x every relation class (NA excluded),
// scored by `model` in eval mode without gradients, `docs_per_batch` documents at a time.
std::vector<DocredCandidate> score_docred_corpus(DocredReModel& model, const DocredReCorpus& corpus,
                                                 const text::Tokenizer& tokenizer, int64_t docs_per_batch);

struct DocredThreshold {
  double threshold = 0.5;  // predict when prob >= threshold
  double f1 = 0;           // F1 on the documents it was chosen on
};
// The threshold maximising F1 over the unique gold facts of corpus.source (facts
// lost to truncation count in the recall denominator, as DocRED counts them). The
// cut falls only between different probabilities, and the threshold lies midway
// between the last probability kept and the next lower one.
DocredThreshold choose_docred_threshold(const std::vector<DocredCandidate>& candidates, const DocredReCorpus& corpus);

std::vector<eval::DocredPrediction> docred_predictions(const std::vector<DocredCandidate>& candidates,
                                                       const DocredReCorpus& corpus, double threshold);

// Scores as JSON: precision, recall, f1, (ign_f1 when train facts are given), counts.
nlohmann::json docred_score_json(const eval::DocredScore& s, bool with_ign);

// Whether any document of the corpus has labels (DocRED's test split has none).
bool docred_has_labels(const DocredReCorpus& corpus);

// The threshold stored beside a fine-tuned model (docred_threshold.json), or < 0 when absent.
constexpr const char* kDocredThresholdFile = "docred_threshold.json";
double read_docred_threshold(const std::string& dir);
void write_docred_threshold(const std::string& dir, const DocredThreshold& t);

// The whole evaluation of one file: predict, write `out` (submission format),
// score against its labels (Ign F1 with `train_facts` when not null).
struct DocredFileResult {
  std::vector<eval::DocredPrediction> predictions;
  eval::DocredScore score;
  bool labelled = false;
};
DocredFileResult evaluate_docred_corpus(const std::vector<DocredCandidate>& candidates, const DocredReCorpus& corpus,
                                        double threshold, const eval::DocredTrainFacts* train_facts,
                                        const std::string& out);

}  // namespace cotrain::tasks
