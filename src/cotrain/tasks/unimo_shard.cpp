#include "cotrain/tasks/unimo_shard.h"

#include <ATen/ATen.h>

#include "cotrain/core/error.h"
#include "cotrain/dist/gather.h"
#include "cotrain/objectives/cmcl.h"

namespace cotrain::tasks {
namespace {

at::Tensor rows_of(int64_t n, int64_t rank, int64_t world) { return at::arange(rank, n, world, at::kLong); }

at::Tensor pick(const at::Tensor& t, const at::Tensor& rows) { return t.defined() ? t.index_select(0, rows) : t; }

UnimoTextPart local_text(const UnimoTextPart& part, int64_t rank, int64_t world) {
  if (!part.defined() || part.input_ids.size(0) <= rank) return {};
  const at::Tensor rows = rows_of(part.input_ids.size(0), rank, world);
  return {pick(part.input_ids, rows), pick(part.attention_mask, rows), pick(part.labels, rows)};
}

UnimoImagePart local_image(const UnimoImagePart& part, int64_t rank, int64_t world) {
  if (!part.defined() || part.features.size(0) <= rank) return {};
  const at::Tensor rows = rows_of(part.features.size(0), rank, world);
  UnimoImagePart out;
  out.features = pick(part.features, rows);
  out.boxes = pick(part.boxes, rows);
  out.region_mask = pick(part.region_mask, rows);
  out.masked = pick(part.masked, rows);
  out.target_features = pick(part.target_features, rows);
  out.target_classes = pick(part.target_classes, rows);
  return out;
}

double count_ne(const at::Tensor& t, int64_t value) { return t.defined() ? t.ne(value).sum().item<double>() : 0.0; }

double masked_tokens(const UnimoBatch& b) {
  return (b.text.defined() ? count_ne(b.text.labels, -100) : 0.0) +
         (b.pair_text.defined() ? count_ne(b.pair_text.labels, -100) : 0.0);
}

double masked_regions(const UnimoBatch& b) {
  return (b.image.defined() ? count_ne(b.image.masked, 0) : 0.0) +
         (b.pair_image.defined() ? count_ne(b.pair_image.masked, 0) : 0.0);
}

// Rows i with i % world == rank of n, as global indices.
int64_t rows_on(int64_t n, int64_t rank, int64_t world) { return n > rank ? (n - rank + world - 1) / world : 0; }

}  // namespace

UnimoBatch unimo_local_batch(const UnimoBatch& global, int64_t rank, int64_t world) {
  UnimoBatch local;
  local.text = local_text(global.text, rank, world);
  local.image = local_image(global.image, rank, world);
  local.pair_text = local_text(global.pair_text, rank, world);
  local.pair_image = local_image(global.pair_image, rank, world);
  local.examples = (local.text.defined() ? local.text.input_ids.size(0) : 0) +
                   (local.image.defined() ? local.image.features.size(0) : 0) +
                   (local.pair_text.defined() ? local.pair_text.input_ids.size(0) : 0);
  return local;
}

UnimoLossOutput unimo_losses_shared(models::UnimoModelImpl& model, const UnimoBatch& global,
                                    const UnimoConfig& config, int64_t rank, int64_t world) {
  const int64_t pairs = global.pair_text.defined() ? global.pair_text.input_ids.size(0) : 0;
  if (pairs < world)
    fail("unimo: a micro-batch of {} image-text pairs cannot be split over {} processes (raise trainer.batch_size "
         "or lower unimo.text_ratio / image_ratio)", pairs, world);
  const UnimoBatch local = unimo_local_batch(global, rank, world);
  UnimoLossOutput out = unimo_losses(model, local, config);  // local means, no CMCL

  auto share = [](const at::Tensor& mean, double local_count, double global_count) {
    return local_count == 0 || global_count == 0 ? mean * 0.0 : mean * (local_count / global_count);
  };
  const double tokens_here = masked_tokens(local), tokens_all = masked_tokens(global);
  const double regions_here = masked_regions(local), regions_all = masked_regions(global);
  if (out.terms.count("mlm")) out.terms["mlm"] = share(out.terms["mlm"], tokens_here, tokens_all);
  if (out.terms.count("mrm_reg")) out.terms["mrm_reg"] = share(out.terms["mrm_reg"], regions_here, regions_all);
  if (out.terms.count("mrm_cls")) out.terms["mrm_cls"] = share(out.terms["mrm_cls"], regions_here, regions_all);

  if (global.cmcl_images.defined() && global.cmcl_texts.defined() && global.cells.image.size(0) > 0) {
    const int64_t I = global.cmcl_images.features.size(0), J = global.cmcl_texts.input_ids.size(0);
    // I, J >= pairs >= world: every rank has images and texts to encode.
    const UnimoImagePart images = local_image(global.cmcl_images, rank, world);
    const UnimoTextPart texts = local_text(global.cmcl_texts, rank, world);
    models::UnimoInputs image_in, text_in;
    image_in.region_features = images.features;
    image_in.region_boxes = images.boxes;
    image_in.region_mask = images.region_mask;
    text_in.input_ids = texts.input_ids;
    text_in.text_mask = texts.attention_mask;
    const at::Tensor image_emb = model.forward(image_in).h_img, text_emb = model.forward(text_in).h_cls;
    // One gather for both (one collective, so the ranks' backward passes pair up).
    const dist::GatheredRows gathered = dist::all_gather_rows(at::cat({image_emb, text_emb}, 0));
    std::vector<int64_t> offsets(static_cast<size_t>(world), 0);
    for (int64_t r = 0; r < world; ++r) {
      const int64_t expected = rows_on(I, r, world) + rows_on(J, r, world);
      if (gathered.counts.at(static_cast<size_t>(r)) != expected)
        fail("unimo: rank {} sent {} CMCL features, the batch gives it {}", r, gathered.counts[r], expected);
      if (r > 0) offsets[r] = offsets[r - 1] + gathered.counts[static_cast<size_t>(r - 1)];
    }
    std::vector<int64_t> image_rows, text_rows;
    for (int64_t i = 0; i < I; ++i) image_rows.push_back(offsets[i % world] + i / world);
    for (int64_t j = 0; j < J; ++j)
      text_rows.push_back(offsets[j % world] + rows_on(I, j % world, world) + j / world);
    const at::Tensor all_images = gathered.all.index_select(0, at::tensor(image_rows, at::kLong).to(gathered.all.device()));
    const at::Tensor all_texts = gathered.all.index_select(0, at::tensor(text_rows, at::kLong).to(gathered.all.device()));

    const int64_t A = global.cells.image.size(0);
    const at::Tensor anchors = rows_of(A, rank, world);
    objectives::CmclCells mine{global.cells.image.index_select(0, anchors), global.cells.text.index_select(0, anchors),
                               global.cells.kind.index_select(0, anchors)};
    at::Tensor scale = model.contrastive_scale();
    if (!config.learn_temperature) scale = scale.detach();
    // Always through the gathered features, so that every rank's backward reaches the gather.
    const at::Tensor mean = objectives::cmcl_loss(all_images, all_texts, mine, scale);
    out.terms["cmcl"] = share(mean, static_cast<double>(anchors.size(0)), static_cast<double>(A));
    out.terms["logit_scale"] = model.logit_scale.detach() / static_cast<double>(world);
  }

  at::Tensor total;
  auto add = [&](const char* name, double weight) {
    auto it = out.terms.find(name);
    if (it == out.terms.end()) return;
    total = total.defined() ? total + weight * it->second : weight * it->second;
  };
  add("mlm", config.mlm_weight);
  add("mrm_reg", config.mrm_regression_weight);
  add("mrm_cls", config.mrm_classification_weight);
  add("cmcl", config.cmcl_weight);
  if (total.defined()) out.terms["total"] = total;
  return out;
}

}  // namespace cotrain::tasks
