// Task "vilbert-retrieval" (vilbert.md, Flickr30k row): the score head Linear(bi -> 1)
// on the fused vector, softmax cross-entropy over 4 options per caption: the true
// pair, a random caption with the image, the caption with a random image, and the
// caption with a hard negative image (one of the vilbert_ft.hard_negative_pool images
// nearest to the true one by mean region feature, cosine). Data: a 'cotrain prepare'
// store (data.train). Starting from a pretrained folder, the score head begins as the
// alignment head's logit difference (see load_vilbert_for_tasks).
#pragma once
#include <string>
#include <vector>

#include "cotrain/tasks/vilbert_ft_common.h"

namespace cotrain::tasks {

// For each image, the `k` other images nearest by cosine of their mean region
// feature (most similar first; images with an identical key are skipped).
std::vector<std::vector<int64_t>> nearest_images(const data::ShardSet& store, int64_t k);

struct RetrievalBatch {
  FtInputs inputs;  // 4 rows per caption, in kRetrievalOptions order
};

class VilbertRetrievalTask : public VilbertFtTask {
 public:
  VilbertRetrievalTask(const Config& config, FtModel built, std::unique_ptr<data::ShardSet> store);
  train::LossTerms next_loss(Rng& rng) override;
  RetrievalBatch next_batch(Rng& rng);

 private:
  std::unique_ptr<data::ShardSet> store_;
  std::vector<std::vector<int64_t>> tokens_;       // per caption
  std::vector<std::vector<int64_t>> hard_;         // per image: nearest other images
};

std::unique_ptr<train::TrainTask> make_vilbert_retrieval_task(Config& config, const TaskInputs& inputs);
nlohmann::json write_vilbert_retrieval_batch(Config& config, const TaskInputs& inputs);
nlohmann::json vilbert_retrieval_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch);

}  // namespace cotrain::tasks
