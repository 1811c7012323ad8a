// Task "vilbert": ViLBERT pretraining (vilbert.md) on an image-text store written by
// `cotrain prepare` (data.train: the folder or shard): masked language modelling,
// masked region modelling and caption-image alignment, weighted by the vilbert
// section. The text stream may start from a BERT folder (vilbert.text_init) and then
// learns at vilbert.text_lr_scale times the learning rate.
#pragma once
#include <memory>
#include <set>

#include "cotrain/core/config.h"
#include "cotrain/data/epoch_order.h"
#include "cotrain/data/shards.h"
#include "cotrain/models/vilbert/vilbert.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/tasks/vilbert_batch.h"
#include "cotrain/text/tokenizer.h"
#include "cotrain/train/data_parallel.h"
#include "cotrain/train/task.h"

namespace cotrain::tasks {

class VilbertTask : public train::TrainTask, public train::DataParallelTask {
 public:
  VilbertTask(const Config& config, models::VilbertForPretraining model, std::shared_ptr<text::Tokenizer> tokenizer,
              std::unique_ptr<data::ShardSet> store, std::set<std::string> text_init_names);
  std::string name() const override { return "vilbert"; }
  torch::nn::Module& module() override { return *model_; }
  std::vector<train::NamedParameter> parameters() override;
  train::LossTerms next_loss(Rng& rng) override;
  // The global micro-batch (trainer.batch_size rows), the same on every rank.
  VilbertBatch next_batch(Rng& rng);
  void set_data_shard(int64_t rank, int64_t world_size) override;
  nlohmann::json data_state() const override;
  void restore_data_state(const nlohmann::json& state) override;
  void save_model(const std::string& dir) override;
  void load_model(const std::string& dir) override;
  models::VilbertForPretraining& model() { return model_; }

 private:
  Config config_;
  models::VilbertForPretraining model_;
  std::shared_ptr<text::Tokenizer> tokenizer_;
  std::unique_ptr<data::ShardSet> store_;
  std::set<std::string> text_init_names_;     // parameters copied from vilbert.text_init
  std::vector<std::vector<int64_t>> tokens_;  // per caption, truncated to data.max_length - 2
  data::EpochOrder order_{{}, 0, 0};  // which caption comes next (set once the store is read)
  int64_t shard_rank_ = 0, shard_count_ = 1;  // several processes: rows rank, rank + count, ...
};

// Rows rank, rank + world, ... of a collated batch (padded widths stay the global ones).
VilbertBatch vilbert_local_batch(const VilbertBatch& global, int64_t rank, int64_t world);

// This rank's shares of the losses of the global batch (train/data_parallel.h): each
// mean (over masked tokens, masked regions, rows) of its rows, times its count over
// the global count, so that the ranks' shares add up to vilbert_losses(global).
VilbertLosses vilbert_losses_shared(models::VilbertForPretrainingImpl& model, const VilbertBatch& global,
                                    const VilbertConfig& config, int64_t rank, int64_t world);

std::unique_ptr<train::TrainTask> make_vilbert_task(Config& config, const TaskInputs& inputs);
nlohmann::json write_vilbert_batch(Config& config, const TaskInputs& inputs);
nlohmann::json vilbert_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);

}  // namespace cotrain::tasks
