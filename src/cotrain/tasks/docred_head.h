// The document-level RE head of erica.md "Downstream evaluation": entity
// representations (mean over mentions of mean-pooled mention tokens) -> Linear(H ->
// 128), concatenated with a 20-d embedding of DocRED's distance bin
// (docred_re_data.h), then a bilinear layer over the relation classes + NA and
// binary cross-entropy on every class (mean over pairs x classes). The encoder and
// the head together form DocredReModel, whose parameters the trainer sees as
// "encoder.*" and "head.*".
#pragma once
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "cotrain/models/bert/bert.h"
#include "cotrain/tasks/docred_re_data.h"

namespace cotrain::tasks {

constexpr int64_t kDocredReduced = 128;  // Linear(H -> 128)
constexpr int64_t kDocredDistance = 20;  // distance embedding width

struct DocredHeadImpl : torch::nn::Module {
  DocredHeadImpl(int64_t hidden, int64_t num_classes);
  // entities [E, H]; returns logits [P, C] of the batch's pairs.
  at::Tensor forward(const at::Tensor& entities, const std::vector<DocredPair>& pairs);
  torch::nn::Linear reduce{nullptr};
  torch::nn::Embedding distance{nullptr};
  torch::nn::Bilinear bilinear{nullptr};
  int64_t num_classes = 0;
};
TORCH_MODULE(DocredHead);

struct DocredReModelImpl : torch::nn::Module {
  DocredReModelImpl(models::BertForMaskedLM encoder, int64_t num_classes);
  // Logits [P, C] of the batch's pairs. Token ids outside the vocabulary are a cotrain::Error.
  at::Tensor forward(const DocredBatch& batch);
  models::BertForMaskedLM encoder{nullptr};
  DocredHead head{nullptr};
};
TORCH_MODULE(DocredReModel);

// Multi-hot targets [P, C] of the pairs' classes.
at::Tensor docred_targets(const std::vector<DocredPair>& pairs, int64_t num_classes);
// BCE with logits, mean over all P x C entries.
at::Tensor docred_loss(const at::Tensor& logits, const std::vector<DocredPair>& pairs);

// The head's files inside a model folder: docred_head.safetensors ("reduce.weight",
// "reduce.bias", "distance.weight", "bilinear.weight", "bilinear.bias") and
// docred_head.json ({"relations": [...], "max_length": N, "reduced": 128, "distance": 20}),
// max_length being the tokens per document (specials included) it was trained with.
constexpr const char* kDocredHeadWeights = "docred_head.safetensors";
constexpr const char* kDocredHeadInfo = "docred_head.json";
bool has_docred_head(const std::string& dir);
struct DocredHeadInfo {
  DocredRelations relations;
  int64_t max_length = 512;
};
void save_docred_head(const std::string& dir, DocredHead& head, const DocredHeadInfo& info);
DocredHeadInfo read_docred_head_info(const std::string& dir);
void load_docred_head(const std::string& dir, DocredHead& head);

}  // namespace cotrain::tasks
