#include "cotrain/tasks/unimo_losses.h"

#include <ATen/ATen.h>

#include "cotrain/models/fast_modules.h"
#include "cotrain/nn/kernels/cross_entropy.h"
#include "cotrain/objectives/cmcl.h"
#include "cotrain/objectives/masked_region.h"

namespace cotrain::tasks {

namespace {

models::UnimoInputs inputs_of(const UnimoTextPart* text, const UnimoImagePart* image) {
  models::UnimoInputs in;
  if (text) {
    in.input_ids = text->input_ids;
    in.text_mask = text->attention_mask;
  }
  if (image) {
    in.region_features = image->features;
    in.region_boxes = image->boxes;
    in.region_mask = image->region_mask;
  }
  return in;
}

// Accumulates the rows each objective predicts across the parts of the batch.
struct Collected {
  std::vector<at::Tensor> mlm_hidden, mlm_labels;
  std::vector<at::Tensor> region_hidden, region_targets, region_classes;
  bool classes_everywhere = true;
};

void collect_text(Collected& c, const at::Tensor& text_hidden, const UnimoTextPart& part) {
  at::Tensor labels = part.labels.reshape({-1});
  at::Tensor rows = labels.ne(-100).nonzero().squeeze(1);
  c.mlm_hidden.push_back(text_hidden.reshape({-1, text_hidden.size(-1)}).index_select(0, rows));
  c.mlm_labels.push_back(labels.index_select(0, rows));
}

void collect_regions(Collected& c, const at::Tensor& image_hidden, const UnimoImagePart& part) {
  at::Tensor rows = part.masked.reshape({-1}).ne(0).nonzero().squeeze(1);
  const int64_t D = part.target_features.size(-1);
  c.region_hidden.push_back(image_hidden.reshape({-1, image_hidden.size(-1)}).index_select(0, rows));
  c.region_targets.push_back(part.target_features.reshape({-1, D}).index_select(0, rows));
  if (part.target_classes.defined())
    c.region_classes.push_back(part.target_classes.reshape({-1, part.target_classes.size(-1)}).index_select(0, rows));
  else
    c.classes_everywhere = false;
}

int64_t count(const at::Tensor& mask) { return mask.defined() ? mask.sum().item<int64_t>() : 0; }

}  // namespace

UnimoLossOutput unimo_losses(models::UnimoModelImpl& model, const UnimoBatch& batch, const UnimoConfig& config) {
  UnimoLossOutput out;
  Collected c;
  if (batch.text.defined()) {
    auto enc = model.forward(inputs_of(&batch.text, nullptr));
    collect_text(c, enc.text_hidden, batch.text);
    out.tokens += count(batch.text.attention_mask);
  }
  if (batch.image.defined()) {
    auto enc = model.forward(inputs_of(nullptr, &batch.image));
    collect_regions(c, enc.image_hidden, batch.image);
    out.tokens += count(batch.image.region_mask) + batch.image.features.size(0);
  }
  if (batch.pair_text.defined()) {
    auto enc = model.forward(inputs_of(&batch.pair_text, &batch.pair_image));
    collect_text(c, enc.text_hidden, batch.pair_text);
    collect_regions(c, enc.image_hidden, batch.pair_image);
    out.pair_hidden = enc.hidden;
    out.pair_score = model.score(model.pool_image(enc.h_img), model.pool_text(enc.h_cls));
    out.tokens += count(batch.pair_text.attention_mask) + count(batch.pair_image.region_mask) +
                  batch.pair_image.features.size(0);
  }

  at::Tensor total;
  auto add = [&](const std::string& name, const at::Tensor& loss, double weight) {
    out.terms[name] = loss;
    total = total.defined() ? total + weight * loss : weight * loss;
  };
  if (!c.mlm_hidden.empty()) {
    at::Tensor logits = model.mlm_logits(at::cat(c.mlm_hidden, 0));
    at::Tensor labels = at::cat(c.mlm_labels, 0);
    add("mlm", labels.numel() ? nn::kernels::masked_cross_entropy(logits, labels) : logits.sum() * 0.0, config.mlm_weight);
  }
  if (!c.region_hidden.empty() && (config.mrm_regression || config.mrm_classification)) {
    at::Tensor h = model.region_head->transform(at::cat(c.region_hidden, 0));
    if (config.mrm_regression)
      add("mrm_reg",
          objectives::mrm_regression_loss(models::run_linear(model.region_head->regression, h), at::cat(c.region_targets, 0)),
          config.mrm_regression_weight);
    if (config.mrm_classification && c.classes_everywhere && !model.region_head->classifier.is_empty())
      add("mrm_cls", objectives::mrm_kl_loss(models::run_linear(model.region_head->classifier, h), at::cat(c.region_classes, 0)),
          config.mrm_classification_weight);
  }
  if (batch.cmcl_images.defined() && batch.cmcl_texts.defined() && batch.cells.image.size(0) > 0) {
    auto images = model.forward(inputs_of(nullptr, &batch.cmcl_images));
    auto texts = model.forward(inputs_of(&batch.cmcl_texts, nullptr));
    at::Tensor scale = model.contrastive_scale();
    if (!config.learn_temperature) scale = scale.detach();
    add("cmcl", objectives::cmcl_loss(images.h_img, texts.h_cls, batch.cells, scale), config.cmcl_weight);
    out.terms["logit_scale"] = model.logit_scale.detach();
  }
  if (total.defined()) out.terms["total"] = total;
  return out;
}

}  // namespace cotrain::tasks
