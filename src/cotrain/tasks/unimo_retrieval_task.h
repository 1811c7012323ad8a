// Task "retrieval" (`cotrain finetune --task retrieval`, unimo.md "Downstream"):
// UNIMO image-text retrieval fine-tuning of the pair score head (and the whole
// encoder). Each micro-batch takes trainer.batch_size positive (image, caption) pairs
// from data.train (prepared shards); per positive it draws
// unimo_retrieval.negative_images random other images (scored against the caption) and
// unimo_retrieval.negative_texts random captions of other images (scored against the
// image). Every pair is encoded jointly (`[IMG] v.. [CLS] w.. [SEP]`) and scored by
// FC(h_text * h_img); scores [B, 1 + Ni + Nt] (positive first) go to the softmax or
// circle loss (retrieval_losses.h). After training, data.valid (if given) is evaluated
// with `cotrain eval --task retrieval`'s code, zero-shot and re-ranked.
// --init must name a UNIMO folder (or run folder) that has a vocabulary.
#pragma once
#include <memory>

#include "cotrain/core/config.h"
#include "cotrain/data/epoch_order.h"
#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/tasks/retrieval_scorer.h"
#include "cotrain/tasks/unimo_batch.h"
#include "cotrain/train/task.h"

namespace cotrain::tasks {

// One micro-batch: pair rows b * K + k, k = 0 the positive, then negative images, then
// negative texts.
struct UnimoRetrievalBatch {
  UnimoImagePart images;  // [B*K, N, D] (no masking)
  UnimoTextPart texts;    // [B*K, M]
  int64_t group = 0;      // K
};

nlohmann::json unimo_retrieval_batch_to_json(const UnimoRetrievalBatch& batch);
UnimoRetrievalBatch unimo_retrieval_batch_from_json(const nlohmann::json& j);

// Scores [B, K] of a batch and the configured loss ("loss/<name>" and "total").
std::map<std::string, at::Tensor> unimo_retrieval_losses(models::UnimoModelImpl& model,
                                                         const UnimoRetrievalBatch& batch,
                                                         const UnimoRetrievalConfig& config);

class UnimoRetrievalTask : public train::TrainTask {
 public:
  UnimoRetrievalTask(const Config& config, models::UnimoFolder model);
  std::string name() const override { return "retrieval"; }
  torch::nn::Module& module() override { return *model_.model; }
  std::vector<train::NamedParameter> parameters() override;
  train::LossTerms next_loss(Rng& rng) override;
  UnimoRetrievalBatch next_batch(Rng& rng);
  nlohmann::json data_state() const override { return order_.state(); }
  void restore_data_state(const nlohmann::json& state) override { order_.restore(state, "pairs"); }
  void save_model(const std::string& dir) override { models::save_unimo_folder(dir, model_); }
  void load_model(const std::string& dir) override;

 private:
  Config config_;
  models::UnimoFolder model_;
  RetrievalSet train_;
  std::vector<std::vector<int64_t>> texts_of_image_;
  data::EpochOrder order_{{}, 0, 0};
};

std::unique_ptr<train::TrainTask> make_unimo_retrieval_task(Config& config, const TaskInputs& inputs);
nlohmann::json write_unimo_retrieval_batch(Config& config, const TaskInputs& inputs);
nlohmann::json unimo_retrieval_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);
// Evaluates data.valid (first file) with the final checkpoint; null without data.valid.
nlohmann::json finish_unimo_retrieval(Config& config, train::TrainTask& task, const std::string& checkpoint,
                                      const std::string& run_dir);

}  // namespace cotrain::tasks
