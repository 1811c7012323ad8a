// BERT / RoBERTa encoder and masked-LM head with Hugging Face module names, so that
// named_parameters() gives the canonical checkpoint names (see io/hf_folder.h).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "cotrain/core/config.h"

namespace cotrain::models {

// Additive attention mask [B, 1, 1, T] (padding) or [B, 1, T, T] (e.g. seq2seq) from
// a 0/1 key mask [B, T]: 0 where attended, a large negative value where not.
at::Tensor additive_key_mask(const at::Tensor& key_mask, at::ScalarType dtype);

struct BertEmbeddingsImpl : torch::nn::Module {
  explicit BertEmbeddingsImpl(const ModelConfig& config);
  // input_ids [B, T]; token_type_ids and position_ids may be undefined (zeros;
  // 0..T-1 for BERT, padding-aware pad_id+1.. for RoBERTa).
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids = {},
                     const at::Tensor& position_ids = {});
  // Same from precomputed word embeddings [B, T, H].
  at::Tensor forward_embeds(const at::Tensor& word_embeds, const at::Tensor& token_type_ids,
                            const at::Tensor& position_ids);
  at::Tensor default_position_ids(const at::Tensor& input_ids) const;

  ModelConfig config;
  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

struct BertSelfAttentionImpl : torch::nn::Module {
  explicit BertSelfAttentionImpl(const ModelConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& additive_mask);
  int64_t heads;
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertSelfAttention);

// dense -> dropout -> + residual -> LayerNorm (post-LN), used after attention and FFN.
struct BertOutputImpl : torch::nn::Module {
  BertOutputImpl(int64_t in, int64_t out, const ModelConfig& config);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& residual);
  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertOutput);

struct BertAttentionImpl : torch::nn::Module {
  explicit BertAttentionImpl(const ModelConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& additive_mask);
  BertSelfAttention self{nullptr};
  BertOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

struct BertIntermediateImpl : torch::nn::Module {
  explicit BertIntermediateImpl(const ModelConfig& config);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertIntermediate);

struct BertLayerImpl : torch::nn::Module {
  explicit BertLayerImpl(const ModelConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& additive_mask);
  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

struct BertEncoderImpl : torch::nn::Module {
  explicit BertEncoderImpl(const ModelConfig& config);
  at::Tensor forward(at::Tensor hidden, const at::Tensor& additive_mask);
  torch::nn::ModuleList layer{nullptr};
  std::vector<BertLayer> layers;
};
TORCH_MODULE(BertEncoder);

// The bare encoder ("bert." in checkpoints). Includes the tanh pooler.
struct BertModelImpl : torch::nn::Module {
  explicit BertModelImpl(const ModelConfig& config);
  // Returns the last hidden states [B, T, H]. attention_mask: [B, T] 0/1.
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                     const at::Tensor& token_type_ids = {}, const at::Tensor& position_ids = {});
  at::Tensor pool(const at::Tensor& hidden);  // tanh(dense(hidden[:, 0]))
  ModelConfig config;
  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  torch::nn::Linear pooler_dense{nullptr};
};
TORCH_MODULE(BertModel);

// MLM head ("cls.predictions."): dense -> GELU -> LayerNorm -> decoder tied to the
// word embeddings, plus its own bias.
struct BertLMHeadImpl : torch::nn::Module {
  BertLMHeadImpl(const ModelConfig& config, torch::nn::Embedding word_embeddings);
  at::Tensor forward(const at::Tensor& hidden);  // [..., H] -> [..., V]
  torch::nn::Linear transform_dense{nullptr};
  torch::nn::LayerNorm transform_LayerNorm{nullptr};
  at::Tensor bias;
  torch::nn::Embedding word_embeddings{nullptr};  // not registered: tied, owned by the encoder
};
TORCH_MODULE(BertLMHead);

// Encoder + MLM head: the unit that pretraining and checkpoints deal in.
struct BertForMaskedLMImpl : torch::nn::Module {
  explicit BertForMaskedLMImpl(const ModelConfig& config);
  // Cross-entropy over positions whose label is not -100, logits computed only there.
  struct Output {
    at::Tensor hidden;  // [B, T, H]
    at::Tensor logits;  // [M, V] at the M labelled positions
    at::Tensor loss;    // scalar mean over the M positions (0 if M == 0)
  };
  Output forward(const at::Tensor& input_ids, const at::Tensor& attention_mask, const at::Tensor& token_type_ids,
                 const at::Tensor& mlm_labels);
  ModelConfig config;
  BertModel bert{nullptr};
  BertLMHead head{nullptr};
};
TORCH_MODULE(BertForMaskedLM);

// N(0, initializer_range) for linear/embedding weights, zero biases, LayerNorm 1/0.
void init_bert_weights(torch::nn::Module& module, double initializer_range);

}  // namespace cotrain::models
