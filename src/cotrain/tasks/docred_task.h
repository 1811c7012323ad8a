// Task "docred" (`cotrain finetune --task docred`): document-level relation
// extraction fine-tuning of a pretrained encoder (erica.md "Downstream evaluation").
// Each micro-batch holds trainer.batch_size training documents (a seed-shuffled
// subset when docred.train_fraction < 1), every labelled pair of each and NA pairs
// at docred.na_ratio x the positives. After training, the finish hook chooses the
// decision threshold that maximises F1 on docred.dev, writes dev (and docred.test)
// predictions in DocRED's submission format into the run folder and reports F1 and
// Ign F1. The saved model folder holds the encoder (Hugging Face files), the head
// (docred_head.*) and, after the finish hook, the threshold (docred_threshold.json).
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cotrain/core/config.h"
#include "cotrain/data/epoch_order.h"
#include "cotrain/models/bert/text_model.h"
#include "cotrain/tasks/docred_head.h"
#include "cotrain/tasks/docred_re_data.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/train/task.h"

namespace cotrain::tasks {

class DocredTask : public train::TrainTask {
 public:
  DocredTask(const Config& config, models::TextModel text_model, DocredReModel model, DocredReCorpus corpus,
             std::vector<int64_t> train_docs);
  std::string name() const override { return "docred"; }
  torch::nn::Module& module() override { return *model_; }
  std::vector<train::NamedParameter> parameters() override;
  train::LossTerms next_loss(Rng& rng) override;
  DocredBatch next_batch(Rng& rng);
  nlohmann::json data_state() const override { return stream_.state(); }
  void restore_data_state(const nlohmann::json& state) override { stream_.restore(state, "docred"); }
  void save_model(const std::string& dir) override;
  void load_model(const std::string& dir) override;

  DocredReModel& model() { return model_; }
  const DocredReCorpus& corpus() const { return corpus_; }
  const text::Tokenizer& tokenizer() const { return *text_model_.tokenizer; }
  int64_t max_length() const { return config_.data.max_length; }

 private:
  Config config_;
  models::TextModel text_model_;  // its model is model_->encoder
  DocredReModel model_;
  DocredReCorpus corpus_;
  data::EpochOrder stream_;  // over the training documents used
};

void validate_docred_config(const Config& config);

// Factory: the encoder (and the head, when the folder has one) from --init, the
// relation classes from the head, docred.relations or the training labels.
std::unique_ptr<train::TrainTask> make_docred_task(Config& config, const TaskInputs& inputs);
// `cotrain batch --task docred` / `cotrain loss --task docred` (the model folder
// must hold a head: a folder saved by this task).
nlohmann::json write_docred_batch(Config& config, const TaskInputs& inputs);
nlohmann::json docred_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);
// The finish hook (see above).
nlohmann::json finish_docred(Config& config, train::TrainTask& task, const std::string& checkpoint,
                             const std::string& run_dir);

// A fine-tuned model folder, loaded for inference.
struct DocredModelFolder {
  models::TextModel text_model;
  DocredReModel model{nullptr};
  DocredHeadInfo info;
  double threshold = -1;  // docred_threshold.json, or -1
};
DocredModelFolder load_docred_model(const std::string& dir);

// `cotrain eval --task docred --model DIR`: predicts on `gold_path`, writes `out`,
// scores (Ign F1 with `train_path`). threshold < 0: the folder's stored threshold,
// else the best one on the gold file itself (reported as such).
nlohmann::json evaluate_docred_model(const std::string& model_dir, const std::string& gold_path,
                                     const std::string& train_path, double threshold, const std::string& out,
                                     int64_t docs_per_batch);

}  // namespace cotrain::tasks
