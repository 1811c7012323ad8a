// Task "erica": ERICA pretraining (erica.md) of a BERT/RoBERTa encoder with entity
// discrimination, relation discrimination and MLM on a distantly supervised
// DocRED-format corpus. Each micro-batch holds erica.ed_docs ED documents and
// erica.rd_docs RD documents drawn from two shuffled streams over the corpus (the
// documents usable for ED, those usable for RD), each with its own epoch.
#pragma once
#include <memory>

#include "cotrain/core/config.h"
#include "cotrain/data/epoch_order.h"
#include "cotrain/models/bert/text_model.h"
#include "cotrain/tasks/erica_batch.h"
#include "cotrain/tasks/erica_losses.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/train/data_parallel.h"
#include "cotrain/train/task.h"

namespace cotrain::tasks {

class EricaTask : public train::TrainTask, public train::DataParallelTask {
 public:
  EricaTask(const Config& config, models::TextModel model, EricaCorpus corpus);
  std::string name() const override { return "erica"; }
  torch::nn::Module& module() override { return *model_.model; }
  std::vector<train::NamedParameter> parameters() override;
  train::LossTerms next_loss(Rng& rng) override;
  EricaBatch next_batch(Rng& rng);
  nlohmann::json data_state() const override;
  void restore_data_state(const nlohmann::json& state) override;
  void save_model(const std::string& dir) override;
  void load_model(const std::string& dir) override;
  void set_data_shard(int64_t rank, int64_t world_size) override;

  const EricaCorpus& corpus() const { return corpus_; }
  models::TextModel& text_model() { return model_; }

 private:
  Config config_;
  models::TextModel model_;
  EricaCorpus corpus_;
  EricaBatchOptions options_;
  data::EpochOrder ed_stream_, rd_stream_;  // the documents usable for ED / for RD
  int64_t shard_rank_ = 0, shard_count_ = 1;  // several processes: this rank's rows (erica_shard.h)
};

// Checks the erica section (and the data keys it relies on); cotrain::Error naming the key.
void validate_erica_config(const Config& config);

// Factory for the registry: the model from --init (or config + data.vocab), the
// corpus from data.train, relation names from erica.relation_names or a
// rel_info.json beside the first training file.
std::unique_ptr<train::TrainTask> make_erica_task(Config& config, const TaskInputs& inputs);

// `cotrain batch --task erica`: the first micro-batch as JSON (erica_batch_to_json)
// plus an "objective" object with the temperature and the three weights.
nlohmann::json write_erica_batch(Config& config, const TaskInputs& inputs);
// `cotrain loss --task erica`: {"mlm", "ed", "rd", "total"} with dropout off. The
// temperature and weights are the batch's "objective" values when it has them.
nlohmann::json erica_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);

// The objective settings recorded in a batch JSON, falling back to `config`.
EricaConfig erica_objective_of(const nlohmann::json& batch, const EricaConfig& config);

}  // namespace cotrain::tasks
