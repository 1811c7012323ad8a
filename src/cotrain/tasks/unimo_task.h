// Task "unimo" (unimo.md): UNIMO pretraining on image-text pairs (prepared shards,
// data.train), an optional text-only corpus (unimo.text_corpus) and an optional
// image-only corpus (unimo.image_corpus). Each micro-batch mixes text-only, image-only
// and pair examples at unimo.text_ratio / image_ratio (the rest pairs):
//   - text-only and pair captions: MLM (span or token masking);
//   - image-only and pair images: masked region modelling;
//   - pairs: CMCL over their images and texts encoded separately, with paraphrase
//     positives, retrieved image / text positives, lexicon-rewritten and TF-IDF hard
//     negatives and in-batch negatives.
// Without a text-only corpus the text-only examples are captions on their own; without
// an image-only corpus the image-only examples are pair images on their own, and
// retrieved images come from the pairs' images.
#pragma once
#include <memory>
#include <optional>

#include "cotrain/core/config.h"
#include "cotrain/data/epoch_order.h"
#include "cotrain/data/shards.h"
#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/tasks/unimo_batch.h"
#include "cotrain/tasks/unimo_rewriter.h"
#include "cotrain/tasks/unimo_tfidf.h"
#include "cotrain/train/data_parallel.h"
#include "cotrain/train/task.h"

namespace cotrain::tasks {

class UnimoTask : public train::TrainTask, public train::DataParallelTask {
 public:
  UnimoTask(const Config& config, models::UnimoFolder model);
  std::string name() const override { return "unimo"; }
  torch::nn::Module& module() override { return *model_.model; }
  std::vector<train::NamedParameter> parameters() override;
  train::LossTerms next_loss(Rng& rng) override;
  // The global micro-batch, the same on every rank (unimo_shard.h splits it).
  UnimoBatch next_batch(Rng& rng);
  void set_data_shard(int64_t rank, int64_t world_size) override;
  nlohmann::json data_state() const override;
  void restore_data_state(const nlohmann::json& state) override;
  void save_model(const std::string& dir) override;
  void load_model(const std::string& dir) override;

  models::UnimoFolder& model() { return model_; }

 private:
  struct PairRef {
    int64_t image = 0;       // global image index in pairs_
    std::string text;
    std::string image_key;
    std::vector<std::string> paraphrases;
  };
  struct Example {
    std::vector<int64_t> ids, labels;        // text with specials, masked
    int64_t image_set = -1, image = -1;      // which image (0: pairs, 1: image corpus)
  };

  void load_data();
  int64_t next_pair();
  std::vector<int64_t> wrap_text(const std::string& text) const;
  void mask_text(std::vector<int64_t>& ids, std::vector<int64_t>& labels, Rng& rng) const;
  data::RegionsView image_view(int64_t set, int64_t index) const;
  // Fills rows [row] of an image part; masks regions when `mask_regions`.
  void fill_image(UnimoImagePart& part, int64_t row, const data::RegionsView& view, bool mask_regions, Rng& rng) const;
  UnimoImagePart make_image_part(const std::vector<std::pair<int64_t, int64_t>>& images, bool mask_regions,
                                 Rng& rng) const;
  UnimoTextPart make_text_part(const std::vector<std::vector<int64_t>>& ids,
                               const std::vector<std::vector<int64_t>>* labels) const;
  std::vector<float> mean_feature(const data::RegionsView& view) const;
  // Nearest other image (same set as the retrieval pool) above the threshold, or -1.
  int64_t retrieve_image(int64_t pair_image) const;

  Config config_;
  models::UnimoFolder model_;
  std::vector<data::ShardSet> pair_sets_;
  std::vector<std::pair<int64_t, int64_t>> caption_index_;  // global caption -> (set, caption)
  std::vector<std::pair<int64_t, int64_t>> image_index_;    // global pair image -> (set, image)
  std::vector<PairRef> pairs_;
  std::optional<data::ShardSet> image_corpus_;
  std::vector<std::string> text_lines_;
  std::unique_ptr<TfidfIndex> caption_tfidf_, text_tfidf_;
  std::vector<float> pool_features_;  // retrieval pool: normalised mean features, row per image
  int64_t pool_set_ = 0;              // 0: pair images, 1: the image corpus
  CaptionRewriter rewriter_;
  int64_t feature_dim_ = 0, num_classes_ = 0;
  data::EpochOrder order_{{}, 0, 0};  // which pair comes next (set once the data is read)
  int64_t shard_rank_ = 0, shard_count_ = 1;  // several processes (unimo_shard.h)
};

std::unique_ptr<train::TrainTask> make_unimo_task(Config& config, const TaskInputs& inputs);
nlohmann::json write_unimo_batch(Config& config, const TaskInputs& inputs);
nlohmann::json unimo_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);

// Range checks of the unimo section (cotrain::Error naming the key).
void validate_unimo_config(const UnimoConfig& config);

}  // namespace cotrain::tasks
