#include "cotrain/tasks/vilbert_batch.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "cotrain/core/error.h"
#include "cotrain/data/mlm_masking.h"
#include "cotrain/nn/kernels/cross_entropy.h"
#include "cotrain/objectives/alignment.h"
#include "cotrain/objectives/masked_region_kl.h"

namespace cotrain::tasks {

namespace {
// The reference's region masking: 90% of the chosen regions are zeroed, 10% kept.
constexpr double kZeroFraction = 0.9;
}  // namespace

ImageInput make_image_input(const data::RegionsView& r, const VilbertConfig& config, Rng& rng) {
  const int64_t F = r.feature_dim;
  if (F != config.v_feature_size)
    fail("image {}: region features have {} dims but vilbert.v_feature_size is {}", r.image_key, F,
         config.v_feature_size);
  const bool regression = config.region_objective == "regression";
  if (!regression && r.num_classes != config.v_target_size)
    fail("image {}: {} class probabilities per region but vilbert.v_target_size is {} (prepare with detector "
         "cls_prob or --codebook, or set vilbert.region_objective=regression)",
         r.image_key, r.num_classes, config.v_target_size);
  const int64_t n = std::min<int64_t>(r.num_boxes, config.max_regions);
  if (n <= 0) fail("image {}: no regions", r.image_key);
  const int64_t width = regression ? F : r.num_classes;
  ImageInput in;
  in.count = n + 1;
  in.features.assign(static_cast<size_t>(in.count * F), 0.f);
  in.locations.assign(static_cast<size_t>(in.count * 5), 0.f);
  in.targets.assign(static_cast<size_t>(in.count * width), 0.f);
  in.masked.assign(static_cast<size_t>(in.count), 0);
  // IMG token: mean feature over the kept boxes, whole-image location.
  for (int64_t i = 0; i < n; ++i)
    for (int64_t d = 0; d < F; ++d) in.features[static_cast<size_t>(d)] += r.features[i * F + d] / static_cast<float>(n);
  const float whole[5] = {0.f, 0.f, 1.f, 1.f, 1.f};
  std::copy(whole, whole + 5, in.locations.begin());
  for (int64_t i = 0; i < n; ++i) {
    const size_t row = static_cast<size_t>(i + 1);
    std::copy(r.features + i * F, r.features + (i + 1) * F, in.features.begin() + static_cast<std::ptrdiff_t>(row * F));
    auto loc = data::encode_box(r.boxes + 4 * i, r.width, r.height);
    std::copy(loc.begin(), loc.end(), in.locations.begin() + static_cast<std::ptrdiff_t>(row * 5));
    const float* target = regression ? r.features + i * F : r.class_probs + i * r.num_classes;
    std::copy(target, target + width, in.targets.begin() + static_cast<std::ptrdiff_t>(row * width));
    if (rng.bernoulli(config.region_mask_prob)) {
      in.masked[row] = 1;
      if (rng.bernoulli(kZeroFraction))
        std::fill_n(in.features.begin() + static_cast<std::ptrdiff_t>(row * F), F, 0.f);
    }
  }
  return in;
}

VilbertBatch collate_vilbert_batch(const std::vector<CaptionInput>& captions, const std::vector<ImageInput>& images,
                                   const text::Tokenizer& tokenizer, double mask_prob, const VilbertConfig& config,
                                   Rng& rng) {
  const int64_t B = static_cast<int64_t>(captions.size());
  const auto& sp = tokenizer.specials();
  data::MaskingOptions masking;
  masking.mask_prob = mask_prob;
  masking.mask_id = sp.mask;
  masking.vocab_size = tokenizer.vocab_size();
  size_t T = 0;
  int64_t R = 0;
  for (const auto& c : captions) T = std::max(T, c.token_ids.size() + 2);
  for (const auto& im : images) R = std::max(R, im.count);
  const int64_t F = config.v_feature_size;
  const int64_t width = images.empty() ? 0 : static_cast<int64_t>(images[0].targets.size()) / images[0].count;
  std::vector<int64_t> ids(static_cast<size_t>(B) * T, sp.pad), labels(ids.size(), data::kIgnoreLabel),
      attention(ids.size(), 0), align(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int64_t> row{sp.cls};
    row.insert(row.end(), captions[b].token_ids.begin(), captions[b].token_ids.end());
    row.push_back(sp.sep);
    std::vector<bool> maskable(row.size(), true);
    maskable.front() = maskable.back() = false;
    std::vector<int64_t> row_labels = data::mask_tokens(row, maskable, masking, rng);
    for (size_t t = 0; t < row.size(); ++t) {
      ids[b * T + t] = row[t];
      labels[b * T + t] = row_labels[t];  // swapped captions are masked too (vilbert.md names no exception)
      attention[b * T + t] = 1;
    }
    align[static_cast<size_t>(b)] = captions[b].alignment;
  }
  at::Tensor features = at::zeros({B, R, F}), locations = at::zeros({B, R, 5}), targets = at::zeros({B, R, width});
  at::Tensor image_mask = at::zeros({B, R}, at::kLong), masked = at::zeros({B, R}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto& im = images[static_cast<size_t>(b)];
    const int64_t n = im.count;
    features[b].narrow(0, 0, n).copy_(at::from_blob(const_cast<float*>(im.features.data()), {n, F}, at::kFloat));
    locations[b].narrow(0, 0, n).copy_(at::from_blob(const_cast<float*>(im.locations.data()), {n, 5}, at::kFloat));
    targets[b].narrow(0, 0, n).copy_(at::from_blob(const_cast<float*>(im.targets.data()), {n, width}, at::kFloat));
    masked[b].narrow(0, 0, n).copy_(at::from_blob(const_cast<int64_t*>(im.masked.data()), {n}, at::kLong));
    image_mask[b].narrow(0, 0, n).fill_(1);
  }
  const int64_t Tl = static_cast<int64_t>(T);
  VilbertBatch batch;
  batch.input_ids = at::tensor(ids, at::kLong).view({B, Tl});
  batch.mlm_labels = at::tensor(labels, at::kLong).view({B, Tl});
  batch.attention_mask = at::tensor(attention, at::kLong).view({B, Tl});
  batch.token_type_ids = at::zeros({B, Tl}, at::kLong);
  batch.features = features;
  batch.locations = locations;
  batch.image_mask = image_mask;
  batch.region_masked = masked;
  batch.region_targets = targets;
  batch.alignment_labels = at::tensor(align, at::kLong);
  return batch;
}

models::VilbertForPretrainingImpl::Output run_vilbert(models::VilbertForPretrainingImpl& model,
                                                      const VilbertBatch& batch) {
  return model.forward(batch.input_ids, batch.token_type_ids, batch.attention_mask, batch.features, batch.locations,
                       batch.image_mask, batch.mlm_labels);
}

VilbertLosses vilbert_losses(const models::VilbertForPretrainingImpl::Output& out, const VilbertBatch& batch,
                             const VilbertConfig& config) {
  VilbertLosses l;
  at::Tensor labels = batch.mlm_labels.reshape({-1});
  at::Tensor picked = labels.index_select(0, labels.ne(-100).nonzero().squeeze(1));
  l.mlm = picked.numel() == 0 ? out.mlm_logits.sum() * 0.0 : nn::kernels::masked_cross_entropy(out.mlm_logits, picked);
  l.region = config.region_objective == "regression"
                 ? objectives::masked_region_regression_loss(out.region_scores, batch.region_targets,
                                                             batch.region_masked)
                 : objectives::masked_region_kl_loss(out.region_scores, batch.region_targets, batch.region_masked);
  l.alignment = objectives::alignment_loss(out.alignment_logits, batch.alignment_labels);
  l.total = config.mlm_weight * l.mlm + config.region_weight * l.region + config.alignment_weight * l.alignment;
  return l;
}

}  // namespace cotrain::tasks
