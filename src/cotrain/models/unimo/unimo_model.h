// UNIMO's single-stream encoder (shared/spec/unimo.md): one BERT/RoBERTa Transformer
// over `[IMG] v1..vN [CLS] w1..wM [SEP]` with full attention, or over an image alone
// (`[IMG] v..`) or a text alone (`[CLS] w.. [SEP]`).
//
// Names (named_parameters()): the shared text part keeps BertForMaskedLM's names
// ("bert.embeddings.*", "bert.encoder.*", "cls.predictions.*"), so a BERT or RoBERTa
// Hugging Face folder loads into it with models::load_weights (LoadMode::partial).
// UNIMO's own parts:
//   visual_embeddings.feature_dense  Linear(D -> H)    region feature
//   visual_embeddings.box_dense      Linear(5 -> H)    box x1/W, y1/H, x2/W, y2/H, area
//   visual_embeddings.LayerNorm      its own LayerNorm (then dropout)
//   image_pooler.dense, text_pooler.dense   FC + ReLU on h[IMG] / h[CLS]
//   score.dense                      Linear(H -> 1): FC(dropout(h_text * h_img)) ("mul")
//   region_head.transform.dense / .LayerNorm, region_head.regression (H -> D),
//   region_head.classifier (H -> C, only when C > 0)   masked region modelling
//   logit_scale                      log(1/tau) of CMCL (no weight decay by its name)
//
// "No segment embedding": the text embedding is word + position (+ the single row of
// token_type_embeddings, as in RoBERTa whose type_vocab_size is 1: a constant vector
// that keeps the folder's tensors loadable), LayerNorm, dropout.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "cotrain/core/config.h"
#include "cotrain/models/bert/bert.h"

namespace cotrain::models {

// What the model needs of the unimo config beyond the Transformer's geometry.
struct UnimoGeometry {
  int64_t region_feature_dim = 2048;
  int64_t num_region_classes = 0;  // 0: no classification head
  double temperature_init = 0.07;
  double max_logit_scale = 100.0;
};

struct UnimoVisualEmbeddingsImpl : torch::nn::Module {
  UnimoVisualEmbeddingsImpl(const ModelConfig& config, int64_t feature_dim);
  // features [B, N, D], boxes [B, N, 5] -> [B, N, H]
  at::Tensor forward(const at::Tensor& features, const at::Tensor& boxes);
  torch::nn::Linear feature_dense{nullptr}, box_dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(UnimoVisualEmbeddings);

// dense -> GELU -> LayerNorm, then a regression and (optionally) a class projection.
struct UnimoRegionHeadImpl : torch::nn::Module {
  UnimoRegionHeadImpl(const ModelConfig& config, const UnimoGeometry& geometry);
  at::Tensor transform(const at::Tensor& hidden);  // [M, H] -> [M, H]
  torch::nn::Linear transform_dense{nullptr};
  torch::nn::LayerNorm transform_LayerNorm{nullptr};
  torch::nn::Linear regression{nullptr}, classifier{nullptr};  // classifier null when C == 0
};
TORCH_MODULE(UnimoRegionHead);

// One encoder call's inputs. Either part may be undefined (text-only, image-only).
struct UnimoInputs {
  at::Tensor input_ids;        // [B, M] with [CLS]/<s> .. [SEP]/</s>, padded
  at::Tensor text_mask;        // [B, M] 1 for real tokens
  at::Tensor region_features;  // [B, N, D] (masked regions already zeroed), padded
  at::Tensor region_boxes;     // [B, N, 5]
  at::Tensor region_mask;      // [B, N] 1 for real regions
};

struct UnimoEncoded {
  at::Tensor hidden;          // [B, L, H]: L = (1 + N if image) + (M if text)
  int64_t image_length = 0;   // 1 + N when there is an image part, else 0
  at::Tensor image_hidden;    // [B, N, H] hidden states of the regions (undefined without image)
  at::Tensor text_hidden;     // [B, M, H] of the text tokens (undefined without text)
  at::Tensor h_img;           // [B, H] hidden state of [IMG] (undefined without image)
  at::Tensor h_cls;           // [B, H] hidden state of [CLS] (undefined without text)
};

struct UnimoModelImpl : torch::nn::Module {
  UnimoModelImpl(const ModelConfig& config, const UnimoGeometry& geometry);

  UnimoEncoded forward(const UnimoInputs& inputs);
  // Pooled outputs: ReLU(FC(h[IMG])), ReLU(FC(h[CLS])).
  at::Tensor pool_image(const at::Tensor& h_img);
  at::Tensor pool_text(const at::Tensor& h_cls);
  // Retrieval score FC(dropout(pooled_text * pooled_image)) -> [B].
  at::Tensor score(const at::Tensor& pooled_image, const at::Tensor& pooled_text);
  // exp(logit_scale) clamped to max_logit_scale: 1/tau of CMCL.
  at::Tensor contrastive_scale();
  // MLM logits at hidden states [M, H] -> [M, V] (decoder tied to the word embeddings).
  at::Tensor mlm_logits(const at::Tensor& hidden);

  ModelConfig config;
  UnimoGeometry geometry;
  BertEmbeddings embeddings{nullptr};  // registered as bert.embeddings
  BertEncoder encoder{nullptr};        // registered as bert.encoder
  UnimoVisualEmbeddings visual_embeddings{nullptr};
  torch::nn::Linear image_pooler{nullptr}, text_pooler{nullptr}, score_dense{nullptr};
  torch::nn::Dropout score_dropout{nullptr};
  BertLMHead mlm_head{nullptr};  // cls.predictions
  UnimoRegionHead region_head{nullptr};
  at::Tensor logit_scale;
};
TORCH_MODULE(UnimoModel);

// The [IMG] token's inputs: the mean of the real regions' (input) features and the
// box [0, 0, 1, 1, 1]. The mean is over the features as given, so regions masked for
// MRM (zeroed) do not leak into [IMG].
at::Tensor image_token_feature(const at::Tensor& features, const at::Tensor& region_mask);

// Initialises UNIMO's own parameters like BERT's (N(0, std), zero biases, LayerNorm
// 1/0) and logit_scale to log(1/temperature_init).
void init_unimo_weights(UnimoModelImpl& model);

}  // namespace cotrain::models
