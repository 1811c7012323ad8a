// Task "mlm": masked language modelling of a BERT/RoBERTa encoder on a plain-text
// corpus, one sequence per line.
#pragma once
#include <memory>

#include "cotrain/core/config.h"
#include "cotrain/data/epoch_order.h"
#include "cotrain/data/text_corpus.h"
#include "cotrain/models/bert/text_model.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/train/data_parallel.h"
#include "cotrain/train/task.h"

namespace cotrain::tasks {

// A micro-batch as tensors: [B, T] each; labels -100 where nothing is predicted.
struct MlmBatch {
  at::Tensor input_ids, attention_mask, token_type_ids, labels;
};

// Wraps sequences in [CLS] .. [SEP] (<s> .. </s>), masks them and pads to the
// longest. Exposed for the tests and for `cotrain batch`.
MlmBatch make_mlm_batch(const std::vector<const std::vector<int64_t>*>& sequences, const text::Tokenizer& tokenizer,
                        double mask_prob, Rng& rng);

class MlmTask : public train::TrainTask, public train::DataParallelTask {
 public:
  MlmTask(const Config& config, models::TextModel model, data::TextCorpus corpus);
  std::string name() const override { return "mlm"; }
  torch::nn::Module& module() override { return *model_.model; }
  std::vector<train::NamedParameter> parameters() override;
  train::LossTerms next_loss(Rng& rng) override;
  MlmBatch next_batch(Rng& rng);
  nlohmann::json data_state() const override;
  void restore_data_state(const nlohmann::json& state) override;
  void save_model(const std::string& dir) override;
  void load_model(const std::string& dir) override;
  void set_data_shard(int64_t rank, int64_t world_size) override;

 private:
  Config config_;
  int64_t shard_rank_ = 0, shard_count_ = 1;  // several processes: rows rank, rank + count, ...
  models::TextModel model_;
  data::TextCorpus corpus_;
  data::EpochOrder order_;  // which sequence comes next
};

// Factory for the registry: a model from --init or from config + data.vocab, and
// the corpus data.train.
std::unique_ptr<train::TrainTask> make_mlm_task(Config& config, const TaskInputs& inputs);

// `cotrain batch/loss --task mlm`: the first micro-batch as JSON ({input_ids,
// attention_mask, token_type_ids, labels}: lists of rows), and its loss.
nlohmann::json write_mlm_batch(Config& config, const TaskInputs& inputs);
nlohmann::json mlm_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);

// Tensor <-> JSON for batch files: int64 matrices as lists of rows.
nlohmann::json long_matrix_to_json(const at::Tensor& t);
at::Tensor long_matrix_from_json(const nlohmann::json& j, const std::string& key);

}  // namespace cotrain::tasks
