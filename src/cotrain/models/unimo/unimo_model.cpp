#include "cotrain/models/unimo/unimo_model.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>

#include "cotrain/core/error.h"
#include "cotrain/models/fast_modules.h"
#include "cotrain/nn/kernels/bias_gelu.h"

namespace cotrain::models {

namespace {
struct GroupImpl : torch::nn::Module {};
TORCH_MODULE(Group);

torch::nn::LayerNorm make_layer_norm(int64_t width, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(eps));
}
}  // namespace

UnimoVisualEmbeddingsImpl::UnimoVisualEmbeddingsImpl(const ModelConfig& c, int64_t feature_dim) {
  feature_dense = register_module("feature_dense", torch::nn::Linear(feature_dim, c.hidden_size));
  box_dense = register_module("box_dense", torch::nn::Linear(5, c.hidden_size));
  LayerNorm = register_module("LayerNorm", make_layer_norm(c.hidden_size, c.layer_norm_eps));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

at::Tensor UnimoVisualEmbeddingsImpl::forward(const at::Tensor& features, const at::Tensor& boxes) {
  return run_dropout(dropout, LayerNorm->forward(run_linear(feature_dense, features) + run_linear(box_dense, boxes)));
}

UnimoRegionHeadImpl::UnimoRegionHeadImpl(const ModelConfig& c, const UnimoGeometry& g) {
  auto t = register_module("transform", Group());
  transform_dense = t->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  transform_LayerNorm = t->register_module("LayerNorm", make_layer_norm(c.hidden_size, c.layer_norm_eps));
  regression = register_module("regression", torch::nn::Linear(c.hidden_size, g.region_feature_dim));
  if (g.num_region_classes > 0)
    classifier = register_module("classifier", torch::nn::Linear(c.hidden_size, g.num_region_classes));
}

at::Tensor UnimoRegionHeadImpl::transform(const at::Tensor& hidden) {
  return transform_LayerNorm->forward(nn::kernels::linear_gelu(hidden, transform_dense->weight, transform_dense->bias));
}

at::Tensor image_token_feature(const at::Tensor& features, const at::Tensor& region_mask) {
  at::Tensor m = region_mask.to(features.scalar_type()).unsqueeze(-1);  // [B, N, 1]
  // clamp: an image with no real region (never produced by the loaders) gets zeros.
  return (features * m).sum(1) / m.sum(1).clamp_min(1.0);
}

UnimoModelImpl::UnimoModelImpl(const ModelConfig& c, const UnimoGeometry& g) : config(c), geometry(g) {
  if (c.hidden_size % c.num_attention_heads != 0) fail("unimo: hidden_size must be a multiple of num_attention_heads");
  auto bert = register_module("bert", Group());
  embeddings = bert->register_module("embeddings", BertEmbeddings(c));
  encoder = bert->register_module("encoder", BertEncoder(c));
  visual_embeddings = register_module("visual_embeddings", UnimoVisualEmbeddings(c, g.region_feature_dim));
  image_pooler = register_module("image_pooler", Group())->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  text_pooler = register_module("text_pooler", Group())->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  score_dense = register_module("score", Group())->register_module("dense", torch::nn::Linear(c.hidden_size, 1));
  score_dropout = register_module("score_dropout", torch::nn::Dropout(c.hidden_dropout_prob));
  mlm_head = register_module("cls", Group())->register_module("predictions", BertLMHead(c, embeddings->word_embeddings));
  region_head = register_module("region_head", UnimoRegionHead(c, g));
  logit_scale = register_parameter("logit_scale", at::zeros({}));
  init_unimo_weights(*this);
}

UnimoEncoded UnimoModelImpl::forward(const UnimoInputs& in) {
  const bool has_image = in.region_features.defined(), has_text = in.input_ids.defined();
  if (!has_image && !has_text) fail("unimo: an input needs an image, a text or both");
  std::vector<at::Tensor> parts, masks;
  UnimoEncoded out;
  int64_t B = 0;
  if (has_image) {
    const at::Tensor& f = in.region_features;
    B = f.size(0);
    at::Tensor img_feature = image_token_feature(f, in.region_mask).unsqueeze(1);            // [B, 1, D]
    at::Tensor img_box = at::tensor({0.0, 0.0, 1.0, 1.0, 1.0}, f.options()).expand({B, 1, 5});
    at::Tensor features = at::cat({img_feature, f}, 1);
    at::Tensor boxes = at::cat({img_box, in.region_boxes.to(f.scalar_type())}, 1);
    parts.push_back(visual_embeddings->forward(features, boxes));
    masks.push_back(at::ones({B, 1}, in.region_mask.options()));
    masks.push_back(in.region_mask);
    out.image_length = 1 + f.size(1);
  }
  if (has_text) {
    if (B != 0 && in.input_ids.size(0) != B) fail("unimo: image and text parts have different batch sizes");
    B = in.input_ids.size(0);
    // Text positions count within the text alone (RoBERTa: from padding_idx + 1).
    parts.push_back(embeddings->forward(in.input_ids, {}, embeddings->default_position_ids(in.input_ids)));
    masks.push_back(in.text_mask.to(masks.empty() ? in.text_mask.scalar_type() : masks.front().scalar_type()));
  }
  at::Tensor x = parts.size() == 1 ? parts[0] : at::cat(parts, 1);
  at::Tensor key_mask = masks.size() == 1 ? masks[0] : at::cat(masks, 1);
  out.hidden = encoder->forward(x, additive_key_mask(key_mask, x.scalar_type()));
  if (has_image) {
    out.h_img = out.hidden.select(1, 0);
    out.image_hidden = out.hidden.narrow(1, 1, out.image_length - 1);
  }
  if (has_text) {
    out.text_hidden = out.hidden.narrow(1, out.image_length, in.input_ids.size(1));
    out.h_cls = out.text_hidden.select(1, 0);
  }
  return out;
}

at::Tensor UnimoModelImpl::pool_image(const at::Tensor& h_img) { return at::relu(run_linear(image_pooler, h_img)); }
at::Tensor UnimoModelImpl::pool_text(const at::Tensor& h_cls) { return at::relu(run_linear(text_pooler, h_cls)); }

at::Tensor UnimoModelImpl::score(const at::Tensor& pooled_image, const at::Tensor& pooled_text) {
  return run_linear(score_dense, run_dropout(score_dropout, pooled_text * pooled_image)).squeeze(-1);
}

at::Tensor UnimoModelImpl::contrastive_scale() { return at::clamp_max(at::exp(logit_scale), geometry.max_logit_scale); }

at::Tensor UnimoModelImpl::mlm_logits(const at::Tensor& hidden) { return mlm_head->forward(hidden); }

void init_unimo_weights(UnimoModelImpl& model) {
  init_bert_weights(model, model.config.initializer_range);
  torch::NoGradGuard no_grad;
  model.logit_scale.fill_(std::log(1.0 / model.geometry.temperature_init));
}

}  // namespace cotrain::models
