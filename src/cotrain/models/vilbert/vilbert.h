// ViLBERT (vilbert.md): a BERT text stream and a narrower visual stream over region
// features, joined by co-attentional layers (Co-TRM) placed by t_biattention_id /
// v_biattention_id. Module names follow the public reference checkpoints, so that
// named_parameters() gives their tensor names ("bert.encoder.c_layer.0.biattention.
// query1.weight", "cls.imagePredictions.decoder.bias", ...). In the reference's
// numbering stream 1 is vision and stream 2 is text.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "cotrain/core/config.h"
#include "cotrain/models/bert/bert.h"

namespace cotrain::models {

// The visual stream's geometry as a BERT layer config (so BertLayer serves as the
// visual TRM): hidden, heads, narrow FFN, dropouts from `v`, LayerNorm eps from `text`.
ModelConfig visual_layer_config(const ModelConfig& text, const VilbertConfig& v);

// Fails (cotrain::Error naming the key) unless widths divide by heads and the
// co-attention ids are non-decreasing, equally many and within the layer counts.
void check_vilbert_config(const ModelConfig& text, const VilbertConfig& v);

// LayerNorm(Linear(feature) + Linear(location)) -> dropout ("bert.v_embeddings").
struct VilbertImageEmbeddingsImpl : torch::nn::Module {
  VilbertImageEmbeddingsImpl(const ModelConfig& text, const VilbertConfig& v);
  at::Tensor forward(const at::Tensor& features, const at::Tensor& locations);  // [B,R,F], [B,R,5] -> [B,R,Hv]
  torch::nn::Linear image_embeddings{nullptr}, image_location_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(VilbertImageEmbeddings);

// Cross-attention both ways, no self-attention: text queries over visual keys/values
// and visual queries over text keys/values, all projected to bi_hidden_size.
struct VilbertBiAttentionImpl : torch::nn::Module {
  VilbertBiAttentionImpl(const ModelConfig& text, const VilbertConfig& v);
  struct Output {
    at::Tensor text_context;    // [B, T, bi]: text queries over the regions
    at::Tensor vision_context;  // [B, R, bi]: region queries over the text
  };
  Output forward(const at::Tensor& vision, const at::Tensor& vision_mask, const at::Tensor& text,
                 const at::Tensor& text_mask);
  int64_t heads;
  torch::nn::Linear query1{nullptr}, key1{nullptr}, value1{nullptr};  // vision
  torch::nn::Linear query2{nullptr}, key2{nullptr}, value2{nullptr};  // text
  torch::nn::Dropout dropout1{nullptr}, dropout2{nullptr};
};
TORCH_MODULE(VilbertBiAttention);

// Per stream: dense(bi -> own width) -> dropout -> + residual -> LayerNorm.
// (The reference's q_dense1/q_dense2 are never used and are not built here.)
struct VilbertBiOutputImpl : torch::nn::Module {
  VilbertBiOutputImpl(const ModelConfig& text, const VilbertConfig& v);
  // Returns {vision, text}.
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& vision_context, const at::Tensor& vision_residual,
                                            const at::Tensor& text_context, const at::Tensor& text_residual);
  torch::nn::Linear dense1{nullptr}, dense2{nullptr};
  torch::nn::LayerNorm LayerNorm1{nullptr}, LayerNorm2{nullptr};
  torch::nn::Dropout dropout1{nullptr}, dropout2{nullptr};
};
TORCH_MODULE(VilbertBiOutput);

// One Co-TRM: bi-attention, per-stream output block, then per-stream feed-forward.
struct VilbertConnectionLayerImpl : torch::nn::Module {
  VilbertConnectionLayerImpl(const ModelConfig& text, const VilbertConfig& v);
  // Returns {vision, text}; masks are additive ([B,1,1,R] and [B,1,1,T]).
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& vision, const at::Tensor& vision_mask,
                                            const at::Tensor& text, const at::Tensor& text_mask);
  VilbertBiAttention biattention{nullptr};
  VilbertBiOutput biOutput{nullptr};
  BertIntermediate v_intermediate{nullptr}, t_intermediate{nullptr};
  BertOutput v_output{nullptr}, t_output{nullptr};
};
TORCH_MODULE(VilbertConnectionLayer);

// Text layers ("layer"), visual layers ("v_layer") and Co-TRMs ("c_layer") run in the
// order the biattention ids give.
struct VilbertEncoderImpl : torch::nn::Module {
  VilbertEncoderImpl(const ModelConfig& text, const VilbertConfig& v);
  std::pair<at::Tensor, at::Tensor> forward(at::Tensor text, const at::Tensor& text_mask, at::Tensor vision,
                                            const at::Tensor& vision_mask);  // -> {text, vision}
  // The execution order as words ("t0 t1 c0 v0 t2 c1 v1 t3"), for tests and logs.
  std::string schedule() const;
  std::vector<int64_t> t_ids, v_ids;
  torch::nn::ModuleList layer{nullptr}, v_layer{nullptr}, c_layer{nullptr};
  std::vector<BertLayer> text_layers, vision_layers;
  std::vector<VilbertConnectionLayer> connection_layers;
};
TORCH_MODULE(VilbertEncoder);

// The two-stream body ("bert." in checkpoints).
struct VilbertModelImpl : torch::nn::Module {
  VilbertModelImpl(const ModelConfig& text, const VilbertConfig& v);
  struct Output {
    at::Tensor text;    // [B, T, H]
    at::Tensor vision;  // [B, R, Hv] (index 0: the IMG token)
    at::Tensor pooled_text, pooled_vision;  // [B, bi] (ReLU poolers)
    at::Tensor fused;                       // [B, bi]: product or sum, after dropout
  };
  // attention_mask [B, T] and image_mask [B, R] are 0/1; token_type_ids may be undefined.
  Output forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids, const at::Tensor& attention_mask,
                 const at::Tensor& features, const at::Tensor& locations, const at::Tensor& image_mask);
  ModelConfig text_config;
  VilbertConfig config;
  BertEmbeddings embeddings{nullptr};
  VilbertImageEmbeddings v_embeddings{nullptr};
  VilbertEncoder encoder{nullptr};
  torch::nn::Linear t_pooler_dense{nullptr}, v_pooler_dense{nullptr};
  torch::nn::Dropout fusion_dropout{nullptr};
};
TORCH_MODULE(VilbertModel);

// "cls.imagePredictions": dense -> GELU -> LayerNorm -> decoder (class logits, or
// features for the regression variant).
struct VilbertImageHeadImpl : torch::nn::Module {
  VilbertImageHeadImpl(const ModelConfig& text, const VilbertConfig& v);
  at::Tensor forward(const at::Tensor& vision);
  torch::nn::Linear transform_dense{nullptr}, decoder{nullptr};
  torch::nn::LayerNorm transform_LayerNorm{nullptr};
};
TORCH_MODULE(VilbertImageHead);

// Body + the three pretraining heads ("cls.predictions" tied to the word embeddings,
// "cls.bi_seq_relationship", "cls.imagePredictions").
struct VilbertForPretrainingImpl : torch::nn::Module {
  VilbertForPretrainingImpl(const ModelConfig& text, const VilbertConfig& v);
  struct Output {
    VilbertModelImpl::Output body;
    at::Tensor mlm_logits;        // [M, V] at the positions whose label is not -100
    at::Tensor region_scores;     // [B, R, v_target_size] (or [B, R, F] for regression)
    at::Tensor alignment_logits;  // [B, 2]: index 0 = caption belongs to the image
  };
  Output forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids, const at::Tensor& attention_mask,
                 const at::Tensor& features, const at::Tensor& locations, const at::Tensor& image_mask,
                 const at::Tensor& mlm_labels);
  ModelConfig text_config;
  VilbertConfig config;
  VilbertModel bert{nullptr};
  BertLMHead predictions{nullptr};
  torch::nn::Linear bi_seq_relationship{nullptr};
  VilbertImageHead imagePredictions{nullptr};
};
TORCH_MODULE(VilbertForPretraining);

}  // namespace cotrain::models
