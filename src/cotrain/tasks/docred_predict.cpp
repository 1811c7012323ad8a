#include "cotrain/tasks/docred_predict.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/tasks/docred_eval.h"

namespace cotrain::tasks {

std::vector<DocredCandidate> score_docred_corpus(DocredReModel& model, const DocredReCorpus& corpus,
                                                 const text::Tokenizer& tokenizer, int64_t docs_per_batch) {
  if (docs_per_batch < 1) fail("docred: documents per batch must be at least 1");
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<DocredCandidate> out;
  const auto n = static_cast<int64_t>(corpus.docs.size());
  const int64_t C = corpus.relations.num_classes();
  std::vector<int64_t> chunk;
  for (int64_t start = 0; start < n; start += docs_per_batch) {
    chunk.clear();
    for (int64_t d = start; d < std::min(n, start + docs_per_batch); ++d)
      if (corpus.docs[static_cast<size_t>(d)].aligned.entities.size() >= 2) chunk.push_back(d);
    if (chunk.empty()) continue;
    DocredBatch batch = build_docred_eval_batch(corpus, chunk, tokenizer);
    at::Tensor probs = at::sigmoid(model->forward(batch)).to(at::kCPU, at::kFloat).contiguous();
    const float* p = probs.data_ptr<float>();
    for (size_t i = 0; i < batch.pairs.size(); ++i) {
      const DocredPair& pair = batch.pairs[i];
      for (int64_t c = 1; c < C; ++c)
        out.push_back({batch.docs[static_cast<size_t>(pair.row)], pair.doc_entity_h, pair.doc_entity_t, c,
                       p[static_cast<int64_t>(i) * C + c]});
    }
  }
  if (was_training) model->train();
  return out;
}

namespace {

using Fact = std::tuple<int64_t, int64_t, int64_t, std::string>;  // doc, h, t, r

std::set<Fact> gold_facts(const DocredReCorpus& corpus) {
  std::set<Fact> facts;
  for (size_t d = 0; d < corpus.source.size(); ++d)
    for (const auto& l : corpus.source[d].labels) facts.emplace(static_cast<int64_t>(d), l.h, l.t, l.r);
  return facts;
}

}  // namespace

DocredThreshold choose_docred_threshold(const std::vector<DocredCandidate>& candidates, const DocredReCorpus& corpus) {
  const std::set<Fact> gold = gold_facts(corpus);
  std::vector<std::pair<float, bool>> ranked;
  ranked.reserve(candidates.size());
  for (const auto& c : candidates)
    ranked.emplace_back(c.prob, gold.count({c.doc, c.h_idx, c.t_idx, corpus.relations.ids[static_cast<size_t>(c.cls - 1)]}) > 0);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  DocredThreshold best;
  best.threshold = ranked.empty() ? 0.5 : static_cast<double>(ranked.front().first) + 1e-6;  // predict nothing
  size_t correct = 0;
  for (size_t i = 0; i < ranked.size(); ++i) {
    correct += ranked[i].second ? 1 : 0;
    if (i + 1 < ranked.size() && ranked[i + 1].first == ranked[i].first) continue;  // cut between distinct values
    const double precision = static_cast<double>(correct) / static_cast<double>(i + 1);
    const double recall = gold.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(gold.size());
    const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
    if (f1 > best.f1) {
      best.f1 = f1;
      // Midway to the next lower probability, so that a re-run whose float sums
      // differ in the last bits (other batch widths, threads) keeps the same cut.
      const double below = i + 1 < ranked.size() ? static_cast<double>(ranked[i + 1].first) : 0.0;
      best.threshold = (static_cast<double>(ranked[i].first) + below) / 2;
    }
  }
  return best;
}

std::vector<eval::DocredPrediction> docred_predictions(const std::vector<DocredCandidate>& candidates,
                                                       const DocredReCorpus& corpus, double threshold) {
  std::vector<eval::DocredPrediction> out;
  for (const auto& c : candidates)
    if (static_cast<double>(c.prob) >= threshold)
      out.push_back({corpus.source[static_cast<size_t>(c.doc)].title, c.h_idx, c.t_idx,
                     corpus.relations.ids[static_cast<size_t>(c.cls - 1)], {}});
  return out;
}

nlohmann::json docred_score_json(const eval::DocredScore& s, bool with_ign) {
  nlohmann::json j = {{"precision", s.precision}, {"recall", s.recall},   {"f1", s.f1},
                      {"predictions", s.predictions}, {"gold", s.gold}, {"correct", s.correct}};
  if (with_ign) {
    j["ign_precision"] = s.ign_precision;
    j["ign_f1"] = s.ign_f1;
    j["correct_in_train"] = s.correct_in_train;
  }
  return j;
}

bool docred_has_labels(const DocredReCorpus& corpus) {
  for (const auto& d : corpus.source)
    if (!d.labels.empty()) return true;
  return false;
}

double read_docred_threshold(const std::string& dir) {
  const auto path = std::filesystem::path(dir) / kDocredThresholdFile;
  if (!std::filesystem::exists(path)) return -1;
  std::ifstream in(path);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("threshold") || !j.at("threshold").is_number())
    fail("{}: expected {{\"threshold\": number}}", path.string());
  return j.at("threshold").get<double>();
}

void write_docred_threshold(const std::string& dir, const DocredThreshold& t) {
  const nlohmann::json j = {{"threshold", t.threshold}, {"dev_f1", t.f1}};
  write_file_atomically((std::filesystem::path(dir) / kDocredThresholdFile).string(), j.dump(1) + "\n");
}

DocredFileResult evaluate_docred_corpus(const std::vector<DocredCandidate>& candidates, const DocredReCorpus& corpus,
                                        double threshold, const eval::DocredTrainFacts* train_facts,
                                        const std::string& out) {
  DocredFileResult r;
  r.predictions = docred_predictions(candidates, corpus, threshold);
  if (!out.empty()) eval::write_docred_predictions(out, r.predictions);
  r.labelled = docred_has_labels(corpus);
  if (r.labelled) {
    static const eval::DocredTrainFacts none;
    r.score = eval::score_docred(docred_gold_documents(corpus.source), r.predictions, train_facts ? *train_facts : none);
  }
  return r;
}

}  // namespace cotrain::tasks
