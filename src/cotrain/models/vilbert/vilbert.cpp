#include "cotrain/models/vilbert/vilbert.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include "cotrain/core/error.h"
#include "cotrain/models/fast_modules.h"
#include "cotrain/nn/kernels/attention.h"
#include "cotrain/nn/kernels/bias_gelu.h"
#include "cotrain/nn/kernels/residual_layer_norm.h"

namespace cotrain::models {

namespace {
// Groups modules so that names nest as in the reference ("bert.t_pooler.dense").
struct GroupImpl : torch::nn::Module {};
TORCH_MODULE(Group);

torch::nn::LayerNorm layer_norm(int64_t width, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(eps));
}
}  // namespace

ModelConfig visual_layer_config(const ModelConfig& text, const VilbertConfig& v) {
  ModelConfig c = text;
  c.hidden_size = v.v_hidden_size;
  c.num_attention_heads = v.v_num_attention_heads;
  c.intermediate_size = v.v_intermediate_size;
  c.num_hidden_layers = v.v_num_hidden_layers;
  c.hidden_dropout_prob = v.v_hidden_dropout_prob;
  c.attention_probs_dropout_prob = v.v_attention_probs_dropout_prob;
  return c;
}

void check_vilbert_config(const ModelConfig& text, const VilbertConfig& v) {
  auto need = [](bool ok, const std::string& key, const std::string& why) {
    if (!ok) fail("vilbert.{} {}", key, why);
  };
  need(v.v_hidden_size > 0 && v.v_num_attention_heads > 0 && v.v_hidden_size % v.v_num_attention_heads == 0,
       "v_hidden_size", fmt::format("({}) must be a positive multiple of v_num_attention_heads ({})", v.v_hidden_size,
                                    v.v_num_attention_heads));
  need(v.bi_hidden_size > 0 && v.bi_num_attention_heads > 0 && v.bi_hidden_size % v.bi_num_attention_heads == 0,
       "bi_hidden_size", fmt::format("({}) must be a positive multiple of bi_num_attention_heads ({})",
                                     v.bi_hidden_size, v.bi_num_attention_heads));
  need(v.v_feature_size > 0 && v.v_target_size > 0 && v.v_intermediate_size > 0, "v_feature_size",
       "and v_target_size, v_intermediate_size must be positive");
  need(v.fusion == "mul" || v.fusion == "sum", "fusion", "must be mul or sum, got '" + v.fusion + "'");
  need(v.region_objective == "kl" || v.region_objective == "regression", "region_objective",
       "must be kl or regression, got '" + v.region_objective + "'");
  need(v.t_biattention_id.size() == v.v_biattention_id.size(), "t_biattention_id",
       fmt::format("has {} entries but v_biattention_id has {}", v.t_biattention_id.size(), v.v_biattention_id.size()));
  auto check_ids = [&](const std::vector<int64_t>& ids, int64_t layers, const char* key) {
    for (size_t k = 0; k < ids.size(); ++k) {
      need(ids[k] >= 0 && ids[k] <= layers, key,
           fmt::format("[{}] = {} is outside 0..{} (the stream's layer count)", k, ids[k], layers));
      need(k == 0 || ids[k] >= ids[k - 1], key, fmt::format("must not decrease (entry {})", k));
    }
  };
  check_ids(v.t_biattention_id, text.num_hidden_layers, "t_biattention_id");
  check_ids(v.v_biattention_id, v.v_num_hidden_layers, "v_biattention_id");
}

// ---------------------------------------------------------------- embeddings

VilbertImageEmbeddingsImpl::VilbertImageEmbeddingsImpl(const ModelConfig& text, const VilbertConfig& v) {
  image_embeddings = register_module("image_embeddings", torch::nn::Linear(v.v_feature_size, v.v_hidden_size));
  image_location_embeddings = register_module("image_location_embeddings", torch::nn::Linear(5, v.v_hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(v.v_hidden_size, text.layer_norm_eps));
  dropout = register_module("dropout", torch::nn::Dropout(v.v_hidden_dropout_prob));
}

at::Tensor VilbertImageEmbeddingsImpl::forward(const at::Tensor& features, const at::Tensor& locations) {
  return run_dropout(dropout, LayerNorm->forward(run_linear(image_embeddings, features) +
                                                run_linear(image_location_embeddings, locations)));
}

// ---------------------------------------------------------------- co-attention

VilbertBiAttentionImpl::VilbertBiAttentionImpl(const ModelConfig& text, const VilbertConfig& v)
    : heads(v.bi_num_attention_heads) {
  query1 = register_module("query1", torch::nn::Linear(v.v_hidden_size, v.bi_hidden_size));
  key1 = register_module("key1", torch::nn::Linear(v.v_hidden_size, v.bi_hidden_size));
  value1 = register_module("value1", torch::nn::Linear(v.v_hidden_size, v.bi_hidden_size));
  query2 = register_module("query2", torch::nn::Linear(text.hidden_size, v.bi_hidden_size));
  key2 = register_module("key2", torch::nn::Linear(text.hidden_size, v.bi_hidden_size));
  value2 = register_module("value2", torch::nn::Linear(text.hidden_size, v.bi_hidden_size));
  dropout1 = register_module("dropout1", torch::nn::Dropout(v.v_attention_probs_dropout_prob));
  dropout2 = register_module("dropout2", torch::nn::Dropout(v.v_attention_probs_dropout_prob));
}

VilbertBiAttentionImpl::Output VilbertBiAttentionImpl::forward(const at::Tensor& vision, const at::Tensor& vision_mask,
                                                               const at::Tensor& text, const at::Tensor& text_mask) {
  // Fused (oneDNN, no head transposes) or the ATen composition, by the fast-path switch.
  Output out;
  // Text queries over the regions, masked by the image mask.
  out.text_context = nn::kernels::attention(run_linear(query2, text), run_linear(key1, vision), run_linear(value1, vision),
                                            vision_mask, heads, dropout1->options.p(), dropout1->is_training());
  // Region queries over the text, masked by the text mask.
  out.vision_context = nn::kernels::attention(run_linear(query1, vision), run_linear(key2, text),
                                              run_linear(value2, text), text_mask, heads, dropout2->options.p(),
                                              dropout2->is_training());
  return out;
}

VilbertBiOutputImpl::VilbertBiOutputImpl(const ModelConfig& text, const VilbertConfig& v) {
  dense1 = register_module("dense1", torch::nn::Linear(v.bi_hidden_size, v.v_hidden_size));
  LayerNorm1 = register_module("LayerNorm1", layer_norm(v.v_hidden_size, text.layer_norm_eps));
  dropout1 = register_module("dropout1", torch::nn::Dropout(v.v_hidden_dropout_prob));
  dense2 = register_module("dense2", torch::nn::Linear(v.bi_hidden_size, text.hidden_size));
  LayerNorm2 = register_module("LayerNorm2", layer_norm(text.hidden_size, text.layer_norm_eps));
  dropout2 = register_module("dropout2", torch::nn::Dropout(text.hidden_dropout_prob));
}

std::pair<at::Tensor, at::Tensor> VilbertBiOutputImpl::forward(const at::Tensor& vision_context,
                                                               const at::Tensor& vision_residual,
                                                               const at::Tensor& text_context,
                                                               const at::Tensor& text_residual) {
  // Fused dropout + residual + LayerNorm, or the composition, by the fast-path switch.
  auto add_and_norm = [](torch::nn::Linear& dense, torch::nn::Dropout& dropout, torch::nn::LayerNorm& norm,
                         const at::Tensor& context, const at::Tensor& residual) {
    return nn::kernels::residual_dropout_layer_norm(run_linear(dense, context), residual, norm->weight, norm->bias,
                                                    norm->options.eps(), dropout->options.p(), dropout->is_training());
  };
  at::Tensor vision = add_and_norm(dense1, dropout1, LayerNorm1, vision_context, vision_residual);
  at::Tensor text = add_and_norm(dense2, dropout2, LayerNorm2, text_context, text_residual);
  return {vision, text};
}

VilbertConnectionLayerImpl::VilbertConnectionLayerImpl(const ModelConfig& text, const VilbertConfig& v) {
  const ModelConfig vc = visual_layer_config(text, v);
  biattention = register_module("biattention", VilbertBiAttention(text, v));
  biOutput = register_module("biOutput", VilbertBiOutput(text, v));
  v_intermediate = register_module("v_intermediate", BertIntermediate(vc));
  v_output = register_module("v_output", BertOutput(vc.intermediate_size, vc.hidden_size, vc));
  t_intermediate = register_module("t_intermediate", BertIntermediate(text));
  t_output = register_module("t_output", BertOutput(text.intermediate_size, text.hidden_size, text));
}

std::pair<at::Tensor, at::Tensor> VilbertConnectionLayerImpl::forward(const at::Tensor& vision,
                                                                      const at::Tensor& vision_mask,
                                                                      const at::Tensor& text,
                                                                      const at::Tensor& text_mask) {
  auto ctx = biattention->forward(vision, vision_mask, text, text_mask);
  auto [v, t] = biOutput->forward(ctx.vision_context, vision, ctx.text_context, text);
  return {v_output->forward(v_intermediate->forward(v), v), t_output->forward(t_intermediate->forward(t), t)};
}

// ---------------------------------------------------------------- encoder

VilbertEncoderImpl::VilbertEncoderImpl(const ModelConfig& text, const VilbertConfig& v)
    : t_ids(v.t_biattention_id), v_ids(v.v_biattention_id) {
  const ModelConfig vc = visual_layer_config(text, v);
  layer = register_module("layer", torch::nn::ModuleList());
  v_layer = register_module("v_layer", torch::nn::ModuleList());
  c_layer = register_module("c_layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < text.num_hidden_layers; ++i) {
    text_layers.push_back(BertLayer(text));
    layer->push_back(text_layers.back());
  }
  for (int64_t i = 0; i < v.v_num_hidden_layers; ++i) {
    vision_layers.push_back(BertLayer(vc));
    v_layer->push_back(vision_layers.back());
  }
  for (size_t k = 0; k < t_ids.size(); ++k) {
    connection_layers.push_back(VilbertConnectionLayer(text, v));
    c_layer->push_back(connection_layers.back());
  }
}

namespace {
// Calls step(kind, index) in the order the placement prescribes: before Co-TRM k,
// the visual layers up to v_ids[k]-1, then the text layers up to t_ids[k]-1; after
// the last Co-TRM, the remaining layers of each stream.
template <class Step>
void walk_schedule(const std::vector<int64_t>& t_ids, const std::vector<int64_t>& v_ids, int64_t text_layers,
                   int64_t vision_layers, Step&& step) {
  int64_t t = 0, v = 0;
  for (size_t k = 0; k < t_ids.size(); ++k) {
    for (; v < v_ids[k]; ++v) step('v', v);
    for (; t < t_ids[k]; ++t) step('t', t);
    step('c', static_cast<int64_t>(k));
  }
  for (; v < vision_layers; ++v) step('v', v);
  for (; t < text_layers; ++t) step('t', t);
}
}  // namespace

std::pair<at::Tensor, at::Tensor> VilbertEncoderImpl::forward(at::Tensor text, const at::Tensor& text_mask,
                                                              at::Tensor vision, const at::Tensor& vision_mask) {
  walk_schedule(t_ids, v_ids, static_cast<int64_t>(text_layers.size()), static_cast<int64_t>(vision_layers.size()),
                [&](char kind, int64_t i) {
                  if (kind == 'v') {
                    vision = vision_layers[static_cast<size_t>(i)]->forward(vision, vision_mask);
                  } else if (kind == 't') {
                    text = text_layers[static_cast<size_t>(i)]->forward(text, text_mask);
                  } else {
                    std::tie(vision, text) =
                        connection_layers[static_cast<size_t>(i)]->forward(vision, vision_mask, text, text_mask);
                  }
                });
  return {text, vision};
}

std::string VilbertEncoderImpl::schedule() const {
  std::string s;
  walk_schedule(t_ids, v_ids, static_cast<int64_t>(text_layers.size()), static_cast<int64_t>(vision_layers.size()),
                [&](char kind, int64_t i) { s += (s.empty() ? "" : " ") + std::string(1, kind) + std::to_string(i); });
  return s;
}

// ---------------------------------------------------------------- model

VilbertModelImpl::VilbertModelImpl(const ModelConfig& text, const VilbertConfig& v) : text_config(text), config(v) {
  check_vilbert_config(text, v);
  embeddings = register_module("embeddings", BertEmbeddings(text));
  v_embeddings = register_module("v_embeddings", VilbertImageEmbeddings(text, v));
  encoder = register_module("encoder", VilbertEncoder(text, v));
  t_pooler_dense =
      register_module("t_pooler", Group())->register_module("dense", torch::nn::Linear(text.hidden_size, v.bi_hidden_size));
  v_pooler_dense =
      register_module("v_pooler", Group())->register_module("dense", torch::nn::Linear(v.v_hidden_size, v.bi_hidden_size));
  fusion_dropout = register_module("fusion_dropout", torch::nn::Dropout(text.hidden_dropout_prob));
}

VilbertModelImpl::Output VilbertModelImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                                   const at::Tensor& attention_mask, const at::Tensor& features,
                                                   const at::Tensor& locations, const at::Tensor& image_mask) {
  at::Tensor text = embeddings->forward(input_ids, token_type_ids);
  at::Tensor vision = v_embeddings->forward(features, locations);
  at::Tensor text_mask = additive_key_mask(attention_mask, text.scalar_type());
  at::Tensor vision_mask = additive_key_mask(image_mask, vision.scalar_type());
  Output out;
  std::tie(out.text, out.vision) = encoder->forward(text, text_mask, vision, vision_mask);
  // ReLU poolers on [CLS] and on the IMG token (not BERT's tanh).
  out.pooled_text = at::relu(run_linear(t_pooler_dense, out.text.select(1, 0)));
  out.pooled_vision = at::relu(run_linear(v_pooler_dense, out.vision.select(1, 0)));
  out.fused = run_dropout(fusion_dropout, config.fusion == "sum" ? out.pooled_text + out.pooled_vision
                                                                 : out.pooled_text * out.pooled_vision);
  return out;
}

VilbertImageHeadImpl::VilbertImageHeadImpl(const ModelConfig& text, const VilbertConfig& v) {
  auto transform = register_module("transform", Group());
  transform_dense = transform->register_module("dense", torch::nn::Linear(v.v_hidden_size, v.v_hidden_size));
  transform_LayerNorm = transform->register_module("LayerNorm", layer_norm(v.v_hidden_size, text.layer_norm_eps));
  const int64_t out = v.region_objective == "regression" ? v.v_feature_size : v.v_target_size;
  decoder = register_module("decoder", torch::nn::Linear(v.v_hidden_size, out));
}

at::Tensor VilbertImageHeadImpl::forward(const at::Tensor& vision) {
  return run_linear(decoder, transform_LayerNorm->forward(
                                 nn::kernels::linear_gelu(vision, transform_dense->weight, transform_dense->bias)));
}

VilbertForPretrainingImpl::VilbertForPretrainingImpl(const ModelConfig& text, const VilbertConfig& v)
    : text_config(text), config(v) {
  bert = register_module("bert", VilbertModel(text, v));
  auto cls = register_module("cls", Group());
  predictions = cls->register_module("predictions", BertLMHead(text, bert->embeddings->word_embeddings));
  bi_seq_relationship = cls->register_module("bi_seq_relationship", torch::nn::Linear(v.bi_hidden_size, 2));
  imagePredictions = cls->register_module("imagePredictions", VilbertImageHead(text, v));
  init_bert_weights(*this, text.initializer_range);
}

VilbertForPretrainingImpl::Output VilbertForPretrainingImpl::forward(
    const at::Tensor& input_ids, const at::Tensor& token_type_ids, const at::Tensor& attention_mask,
    const at::Tensor& features, const at::Tensor& locations, const at::Tensor& image_mask,
    const at::Tensor& mlm_labels) {
  Output out;
  out.body = bert->forward(input_ids, token_type_ids, attention_mask, features, locations, image_mask);
  if (mlm_labels.defined()) {
    // Vocabulary projection only where a token is predicted (as BertForMaskedLM).
    at::Tensor positions = mlm_labels.reshape({-1}).ne(-100).nonzero().squeeze(1);
    at::Tensor selected = out.body.text.reshape({-1, out.body.text.size(-1)}).index_select(0, positions);
    out.mlm_logits = predictions->forward(selected);
  }
  out.region_scores = imagePredictions->forward(out.body.vision);
  out.alignment_logits = run_linear(bi_seq_relationship, out.body.fused);
  return out;
}

}  // namespace cotrain::models
