#include "cotrain/tasks/vilbert_ft_retrieval.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <functional>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/tasks/vilbert_ft_losses.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

std::vector<std::vector<int64_t>> nearest_images(const data::ShardSet& store, int64_t k) {
  const int64_t n = store.num_images(), F = store.feature_dim();
  at::Tensor means = at::zeros({n, F});
  for (int64_t i = 0; i < n; ++i) {
    data::RegionsView r = store.image(i);
    if (r.num_boxes == 0) continue;
    at::Tensor f = at::from_blob(const_cast<float*>(r.features), {r.num_boxes, F}, at::kFloat);
    means[i].copy_(f.mean(0));
  }
  means = means / means.norm(2, 1, true).clamp_min(1e-12);
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(n));
  const int64_t chunk = 512;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t m = std::min(chunk, n - start);
    at::Tensor sim = at::matmul(means.narrow(0, start, m), means.t());
    at::Tensor order = sim.argsort(1, true);
    auto o = order.accessor<int64_t, 2>();
    for (int64_t a = 0; a < m; ++a) {
      const int64_t i = start + a;
      auto& list = out[static_cast<size_t>(i)];
      for (int64_t j = 0; j < n && static_cast<int64_t>(list.size()) < k; ++j) {
        const int64_t other = o[a][j];
        if (other == i || store.image(other).image_key == store.image(i).image_key) continue;
        list.push_back(other);
      }
    }
  }
  return out;
}

VilbertRetrievalTask::VilbertRetrievalTask(const Config& config, FtModel built, std::unique_ptr<data::ShardSet> store)
    : VilbertFtTask("vilbert-retrieval", config, std::move(built), store->num_captions()), store_(std::move(store)) {
  for (int64_t i = 0; i < store_->num_captions(); ++i)
    tokens_.push_back(encode_ft_text(*tokenizer_, std::string(store_->caption(i).text), config_.data.max_length));
  hard_ = nearest_images(*store_, std::max<int64_t>(config_.vilbert_ft.hard_negative_pool, 1));
}

RetrievalBatch VilbertRetrievalTask::next_batch(Rng& rng) {
  const int64_t B = config_.trainer.batch_size;
  const int64_t captions = store_->num_captions(), images = store_->num_images();
  // Draws until the pick differs from `avoid` (a few tries; single-image stores keep it).
  auto other = [&](int64_t n, const std::function<bool(int64_t)>& bad) {
    int64_t pick = rng.below(n);
    for (int tries = 0; tries < 10 && bad(pick); ++tries) pick = rng.below(n);
    return pick;
  };
  std::vector<std::vector<int64_t>> texts;
  std::vector<int64_t> image_of_row;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t c = order_.next();
    const int64_t image = store_->caption(c).image_index;
    const int64_t wrong_caption =
        other(captions, [&](int64_t x) { return static_cast<int64_t>(store_->caption(x).image_index) == image; });
    const int64_t wrong_image = other(images, [&](int64_t x) { return x == image; });
    const auto& pool = hard_[static_cast<size_t>(image)];
    const int64_t hard = pool.empty() ? wrong_image : pool[static_cast<size_t>(rng.below(static_cast<int64_t>(pool.size())))];
    for (auto [t, i] : {std::pair{c, image}, std::pair{wrong_caption, image}, std::pair{c, wrong_image},
                        std::pair{c, hard}}) {
      texts.push_back(tokens_[static_cast<size_t>(t)]);
      image_of_row.push_back(i);
    }
  }
  std::vector<FtImageRows> rows;
  rows.reserve(image_of_row.size());
  for (int64_t i : image_of_row) rows.push_back(image_rows(store_->image(i), config_.vilbert.max_regions));
  std::vector<const FtImageRows*> ptrs;
  for (const auto& r : rows) ptrs.push_back(&r);
  RetrievalBatch batch;
  batch.inputs = collate_ft_inputs(texts, ptrs, tokenizer_->specials(), config_.vilbert.v_feature_size);
  return batch;
}

train::LossTerms VilbertRetrievalTask::next_loss(Rng& rng) {
  RetrievalBatch batch = next_batch(rng);
  auto out = run_ft(*model_, batch.inputs);
  train::LossTerms terms;
  terms.terms["total"] = retrieval_loss(out.score);
  terms.samples = batch.inputs.input_ids.size(0) / kRetrievalOptions;
  terms.tokens = batch.inputs.attention_mask.sum().item<int64_t>();
  return terms;
}

std::unique_ptr<train::TrainTask> make_vilbert_retrieval_task(Config& config, const TaskInputs& inputs) {
  if (config.data.train.empty()) fail("task vilbert-retrieval: no training data (data.train: a 'cotrain prepare' folder)");
  auto store = std::make_unique<data::ShardSet>(config.data.train.front());
  if (store->num_captions() == 0) fail("{}: no captions", config.data.train.front());
  models::VilbertHeadSpec heads;
  heads.score = true;
  FtModel built = build_ft_model(config, inputs, heads, store->feature_dim(), "vilbert-retrieval");
  log::info("vilbert-retrieval: {} captions, {} images", store->num_captions(), store->num_images());
  return std::make_unique<VilbertRetrievalTask>(config, built, std::move(store));
}

nlohmann::json write_vilbert_retrieval_batch(Config& config, const TaskInputs& inputs) {
  auto task = make_vilbert_retrieval_task(config, inputs);
  Rng rng = train::initial_data_rng(config.trainer);
  RetrievalBatch b = static_cast<VilbertRetrievalTask&>(*task).next_batch(rng);
  nlohmann::json j = {{"task", "vilbert-retrieval"}, {"options", kRetrievalOptions}};
  ft_inputs_to_json(b.inputs, j);
  return j;
}

nlohmann::json vilbert_retrieval_batch_loss(Config&, const TaskInputs& inputs, const nlohmann::json& j) {
  models::VilbertHeadSpec heads;
  heads.score = true;
  FtModel m = load_ft_model_for_loss(inputs.init, heads);
  FtInputs in = ft_inputs_from_json(j, m.model->text_config, m.model->config);
  if (in.input_ids.size(0) % kRetrievalOptions != 0)
    fail("batch: {} rows are not groups of {} (true pair, random caption, random image, hard negative)",
         in.input_ids.size(0), kRetrievalOptions);
  torch::NoGradGuard no_grad;
  const double loss = retrieval_loss(run_ft(*m.model, in).score).item<double>();
  return {{"retrieval", loss}, {"total", loss}};
}

}  // namespace cotrain::tasks
