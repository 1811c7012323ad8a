// Task "relcls" (`cotrain finetune --task relcls`): sentence-level relation
// classification (erica.md): the encoder's states mean-pooled over the head span and
// over the tail span, concatenated [2H], a linear layer over the relation classes,
// softmax cross-entropy. Classes are the training data's relations (NA, relcls.na_label,
// is one of them). After training, relcls.dev / relcls.test are scored: accuracy and
// micro-F1 without NA (eval/relcls_metric.h); predictions go to the run folder.
//
// Data (data.train, relcls.dev, relcls.test): JSONL, one example per line,
//   {"tokens": [...words...], "h": {"pos": [begin, end]}, "t": {"pos": [begin, end]}, "relation": "name"}
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "cotrain/core/config.h"
#include "cotrain/data/epoch_order.h"
#include "cotrain/models/bert/text_model.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/tasks/relcls_data.h"
#include "cotrain/train/task.h"

namespace cotrain::tasks {

struct RelclsModelImpl : torch::nn::Module {
  RelclsModelImpl(models::BertForMaskedLM encoder, int64_t num_classes);
  // Logits [N, C] of the examples (all must fit).
  at::Tensor forward(const std::vector<const RelclsExample*>& examples, int64_t pad_id);
  models::BertForMaskedLM encoder{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(RelclsModel);

class RelclsTask : public train::TrainTask {
 public:
  RelclsTask(const Config& config, models::TextModel text_model, std::vector<std::string> classes,
             std::vector<RelclsExample> train, std::vector<int64_t> used);
  std::string name() const override { return "relcls"; }
  torch::nn::Module& module() override { return *model_; }
  std::vector<train::NamedParameter> parameters() override;
  train::LossTerms next_loss(Rng& rng) override;
  nlohmann::json data_state() const override { return stream_.state(); }
  void restore_data_state(const nlohmann::json& state) override { stream_.restore(state, "relcls"); }
  void save_model(const std::string& dir) override;
  void load_model(const std::string& dir) override;

  // Scores a JSONL file; writes the predicted relation per line to `out` (JSONL) when given.
  nlohmann::json evaluate_file(const std::string& path, const std::string& out);

 private:
  Config config_;
  models::TextModel text_model_;
  RelclsModel model_;
  std::vector<std::string> classes_;
  std::vector<RelclsExample> train_;
  data::EpochOrder stream_;
};

std::unique_ptr<train::TrainTask> make_relcls_task(Config& config, const TaskInputs& inputs);
nlohmann::json finish_relcls(Config& config, train::TrainTask& task, const std::string& checkpoint,
                             const std::string& run_dir);

}  // namespace cotrain::tasks
