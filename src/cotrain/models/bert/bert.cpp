#include "cotrain/models/bert/bert.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>

#include "cotrain/models/fast_modules.h"
#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/attention.h"
#include "cotrain/nn/kernels/bias_gelu.h"
#include "cotrain/nn/kernels/cross_entropy.h"
#include "cotrain/nn/kernels/dropout.h"
#include "cotrain/nn/kernels/linear.h"
#include "cotrain/nn/kernels/residual_layer_norm.h"

namespace cotrain::models {

namespace {
// A module that only groups others, so that names nest as in Hugging Face
// ("bert.pooler.dense", "cls.predictions.transform.LayerNorm").
struct GroupImpl : torch::nn::Module {};
TORCH_MODULE(Group);

torch::nn::LayerNorm make_layer_norm(int64_t width, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(eps));
}
}  // namespace

at::Tensor additive_key_mask(const at::Tensor& key_mask, at::ScalarType dtype) {
  // BERT's convention: (1 - mask) * large negative, added to the scores. A finite
  // value (not -inf) keeps fully masked rows finite, like the reference.
  at::Tensor m = key_mask.to(dtype);
  if (m.dim() == 2) m = m.unsqueeze(1).unsqueeze(2);       // [B, 1, 1, T]
  else if (m.dim() == 3) m = m.unsqueeze(1);               // [B, 1, T, T]
  return (1.0 - m) * -10000.0;
}

// ---------------------------------------------------------------- embeddings

BertEmbeddingsImpl::BertEmbeddingsImpl(const ModelConfig& c) : config(c) {
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", make_layer_norm(c.hidden_size, c.layer_norm_eps));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

at::Tensor BertEmbeddingsImpl::default_position_ids(const at::Tensor& input_ids) const {
  const int64_t T = input_ids.size(1);
  if (config.type == "roberta") {
    // RoBERTa numbers real tokens from padding_idx + 1 and gives padding padding_idx.
    at::Tensor not_pad = input_ids.ne(config.pad_token_id).to(at::kLong);
    return at::cumsum(not_pad, 1) * not_pad + config.pad_token_id;
  }
  return at::arange(T, input_ids.options().dtype(at::kLong)).unsqueeze(0).expand_as(input_ids);
}

at::Tensor BertEmbeddingsImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                       const at::Tensor& position_ids) {
  at::Tensor positions = position_ids.defined() ? position_ids : default_position_ids(input_ids);
  return forward_embeds(word_embeddings->forward(input_ids), token_type_ids, positions);
}

at::Tensor BertEmbeddingsImpl::forward_embeds(const at::Tensor& word_embeds, const at::Tensor& token_type_ids,
                                              const at::Tensor& position_ids) {
  const int64_t B = word_embeds.size(0), T = word_embeds.size(1);
  at::Tensor positions = position_ids.defined()
                             ? position_ids
                             : at::arange(T, word_embeds.options().dtype(at::kLong)).unsqueeze(0).expand({B, T});
  at::Tensor types = token_type_ids.defined() ? token_type_ids
                                              : at::zeros({B, T}, word_embeds.options().dtype(at::kLong));
  at::Tensor x = word_embeds + position_embeddings->forward(positions) + token_type_embeddings->forward(types);
  return run_dropout(dropout, LayerNorm->forward(x));
}

// ---------------------------------------------------------------- attention

BertSelfAttentionImpl::BertSelfAttentionImpl(const ModelConfig& c)
    : heads(c.num_attention_heads) {
  query = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
  dropout = register_module("dropout", torch::nn::Dropout(c.attention_probs_dropout_prob));
}

at::Tensor BertSelfAttentionImpl::forward(const at::Tensor& hidden, const at::Tensor& additive_mask) {
  if (nn::fast_paths_enabled()) {
    // One product with the three weights stacked instead of three; the fused
    // attention reads q, k and v in place and returns their gradients side by side.
    at::Tensor weight = at::cat({query->weight, key->weight, value->weight});
    at::Tensor bias = at::cat({query->bias, key->bias, value->bias});
    return nn::kernels::packed_self_attention(nn::kernels::fast_linear(hidden, weight, bias), additive_mask, heads,
                                              dropout->options.p(), dropout->is_training());
  }
  return nn::kernels::attention_reference(run_linear(query, hidden), run_linear(key, hidden),
                                          run_linear(value, hidden), additive_mask, heads, dropout->options.p(),
                                          dropout->is_training());
}

BertOutputImpl::BertOutputImpl(int64_t in, int64_t out, const ModelConfig& c) {
  dense = register_module("dense", torch::nn::Linear(in, out));
  LayerNorm = register_module("LayerNorm", make_layer_norm(out, c.layer_norm_eps));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

at::Tensor BertOutputImpl::forward(const at::Tensor& x, const at::Tensor& residual) {
  // Fused dropout + residual + LayerNorm, or the composition, by the fast-path switch.
  return nn::kernels::residual_dropout_layer_norm(run_linear(dense, x), residual, LayerNorm->weight, LayerNorm->bias,
                                                  LayerNorm->options.eps(), dropout->options.p(),
                                                  dropout->is_training());
}

BertAttentionImpl::BertAttentionImpl(const ModelConfig& c) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertOutput(c.hidden_size, c.hidden_size, c));
}

at::Tensor BertAttentionImpl::forward(const at::Tensor& hidden, const at::Tensor& additive_mask) {
  return output->forward(self->forward(hidden, additive_mask), hidden);
}

BertIntermediateImpl::BertIntermediateImpl(const ModelConfig& c) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
}

// Fused linear + bias + GELU, or the composition, by the fast-path switch.
at::Tensor BertIntermediateImpl::forward(const at::Tensor& x) {
  return nn::kernels::linear_gelu(x, dense->weight, dense->bias);
}

BertLayerImpl::BertLayerImpl(const ModelConfig& c) {
  attention = register_module("attention", BertAttention(c));
  intermediate = register_module("intermediate", BertIntermediate(c));
  output = register_module("output", BertOutput(c.intermediate_size, c.hidden_size, c));
}

at::Tensor BertLayerImpl::forward(const at::Tensor& hidden, const at::Tensor& additive_mask) {
  at::Tensor a = attention->forward(hidden, additive_mask);
  return output->forward(intermediate->forward(a), a);
}

BertEncoderImpl::BertEncoderImpl(const ModelConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    layers.push_back(BertLayer(c));
    layer->push_back(layers.back());
  }
}

at::Tensor BertEncoderImpl::forward(at::Tensor hidden, const at::Tensor& additive_mask) {
  for (auto& l : layers) hidden = l->forward(hidden, additive_mask);
  return hidden;
}

// ---------------------------------------------------------------- models

BertModelImpl::BertModelImpl(const ModelConfig& c) : config(c) {
  embeddings = register_module("embeddings", BertEmbeddings(c));
  encoder = register_module("encoder", BertEncoder(c));
  auto pooler = register_module("pooler", Group());
  pooler_dense = pooler->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

at::Tensor BertModelImpl::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                                  const at::Tensor& token_type_ids, const at::Tensor& position_ids) {
  at::Tensor x = embeddings->forward(input_ids, token_type_ids, position_ids);
  at::Tensor mask = attention_mask.defined() ? additive_key_mask(attention_mask, x.scalar_type()) : at::Tensor();
  return encoder->forward(x, mask);
}

at::Tensor BertModelImpl::pool(const at::Tensor& hidden) {
  return at::tanh(run_linear(pooler_dense, hidden.select(1, 0)));
}

BertLMHeadImpl::BertLMHeadImpl(const ModelConfig& c, torch::nn::Embedding tied) : word_embeddings(tied) {
  auto transform = register_module("transform", Group());
  transform_dense = transform->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  transform_LayerNorm = transform->register_module("LayerNorm", make_layer_norm(c.hidden_size, c.layer_norm_eps));
  bias = register_parameter("bias", at::zeros({c.vocab_size}));
}

at::Tensor BertLMHeadImpl::forward(const at::Tensor& hidden) {
  at::Tensor h = transform_LayerNorm->forward(
      nn::kernels::linear_gelu(hidden, transform_dense->weight, transform_dense->bias));
  return nn::kernels::fast_linear(h, word_embeddings->weight, bias);
}

BertForMaskedLMImpl::BertForMaskedLMImpl(const ModelConfig& c) : config(c) {
  bert = register_module("bert", BertModel(c));
  auto cls = register_module("cls", Group());
  head = cls->register_module("predictions", BertLMHead(c, bert->embeddings->word_embeddings));
  init_bert_weights(*this, c.initializer_range);
}

BertForMaskedLMImpl::Output BertForMaskedLMImpl::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                                                         const at::Tensor& token_type_ids,
                                                         const at::Tensor& mlm_labels) {
  Output out;
  out.hidden = bert->forward(input_ids, attention_mask, token_type_ids);
  if (!mlm_labels.defined()) return out;
  // Only the labelled positions go through the vocabulary projection: with 15%
  // masking that is ~7x less work than projecting every position.
  at::Tensor flat_labels = mlm_labels.reshape({-1});
  at::Tensor positions = flat_labels.ne(-100).nonzero().squeeze(1);
  at::Tensor selected = out.hidden.reshape({-1, out.hidden.size(-1)}).index_select(0, positions);
  out.logits = head->forward(selected);
  if (positions.numel() == 0) {
    out.loss = out.logits.sum() * 0.0;
  } else {
    out.loss = nn::kernels::masked_cross_entropy(out.logits, flat_labels.index_select(0, positions));
  }
  return out;
}

void init_bert_weights(torch::nn::Module& module, double initializer_range) {
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    at::Tensor& p = item.value();
    const bool is_norm = name.find("LayerNorm") != std::string::npos;
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    if (is_norm) {
      if (is_bias) p.zero_(); else p.fill_(1.0);
    } else if (is_bias) {
      p.zero_();
    } else {
      p.normal_(0.0, initializer_range);
    }
  }
}

}  // namespace cotrain::models
