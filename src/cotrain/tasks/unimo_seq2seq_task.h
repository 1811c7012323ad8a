// Two tasks built on UNIMO's model and seq2seq examples (unimo_seq2seq_batch.h):
//   "unimo-seq2seq" (pretraining): each micro-batch is, with probability
//       seq2seq.ratio, a seq2seq batch (text-only seq2seq on the text corpus or
//       captions alone, and pair captions conditioned on their image), otherwise the
//       "unimo" task's batch (bidirectional MLM + MRM + CMCL): the spec's alternation
//       of bidirectional and seq2seq language learning.
//   "caption" (fine-tuning): image as the source, the whole caption as the target;
//       after training, captions seq2seq.dev (when given) and reports BLEU / CIDEr-D.
// Both keep the UNIMO folder format, so checkpoints load anywhere a UNIMO model does.
#pragma once
#include <memory>

#include "cotrain/core/config.h"
#include "cotrain/data/epoch_order.h"
#include "cotrain/data/shards.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/tasks/unimo_seq2seq_batch.h"
#include "cotrain/tasks/unimo_task.h"

namespace cotrain::tasks {

class UnimoSeq2seqTask : public train::TrainTask {
 public:
  // caption_only: the "caption" task (every batch image -> caption).
  UnimoSeq2seqTask(const Config& config, std::unique_ptr<UnimoTask> unimo, bool caption_only);
  std::string name() const override { return caption_only_ ? "caption" : "unimo-seq2seq"; }
  torch::nn::Module& module() override { return unimo_->module(); }
  std::vector<train::NamedParameter> parameters() override { return unimo_->parameters(); }
  train::LossTerms next_loss(Rng& rng) override;
  Seq2seqBatch next_seq2seq_batch(Rng& rng);
  nlohmann::json data_state() const override;
  void restore_data_state(const nlohmann::json& state) override;
  void save_model(const std::string& dir) override { unimo_->save_model(dir); }
  void load_model(const std::string& dir) override { unimo_->load_model(dir); }
  models::UnimoFolder& model() { return unimo_->model(); }

 private:
  std::vector<int64_t> tokens_of(const std::string& text, int64_t room) const;

  Config config_;
  std::unique_ptr<UnimoTask> unimo_;
  bool caption_only_;
  std::vector<data::ShardSet> sets_;
  std::vector<std::pair<int64_t, int64_t>> captions_;  // (set, caption)
  std::vector<std::string> text_lines_;
  data::EpochOrder order_{{}, 0, 0};
};

std::unique_ptr<train::TrainTask> make_unimo_seq2seq_task(Config& config, const TaskInputs& inputs);
std::unique_ptr<train::TrainTask> make_caption_task(Config& config, const TaskInputs& inputs);
nlohmann::json write_seq2seq_batch(Config& config, const TaskInputs& inputs);
nlohmann::json write_caption_batch(Config& config, const TaskInputs& inputs);
nlohmann::json seq2seq_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);
// After caption fine-tuning: captions seq2seq.dev with the trained model, writes
// run_dir/dev-captions.jsonl, returns {"bleu1".."bleu4", "cider_d", "images"} (null
// without seq2seq.dev).
nlohmann::json finish_caption(Config& config, train::TrainTask& task, const std::string& checkpoint,
                              const std::string& run_dir);

// Fills the image part from region views (at most max_regions each, features as
// stored, boxes encoded); rows padded to the longest.
UnimoImagePart image_part_of(const std::vector<data::RegionsView>& views, int64_t max_regions);

void validate_seq2seq_config(const Seq2seqConfig& config);

}  // namespace cotrain::tasks
