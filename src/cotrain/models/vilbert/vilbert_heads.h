// ViLBERT fine-tuning heads (vilbert.md "Downstream heads") on the two-stream body:
//   score   "vil_logit":      Linear(bi -> 1) on the fused pooled vector (retrieval),
//   answers "vil_prediction": Linear(bi -> 2 bi) -> ReLU -> dropout -> Linear(2 bi -> A) (VQA),
//   regions "vision_logit":   Linear(Hv -> 1) on every visual-stream output (grounding).
// Only the heads a task asks for are built, so a task's checkpoint holds the body
// ("bert.") and its own head.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "cotrain/core/config.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/models/vilbert/vilbert.h"

namespace cotrain::models {

struct VilbertHeadSpec {
  bool score = false;        // retrieval
  int64_t answers = 0;       // VQA answer vocabulary size (0: no answer head)
  double answer_dropout = 0.5;
  bool regions = false;      // grounding
};

struct VilbertAnswerHeadImpl : torch::nn::Module {
  VilbertAnswerHeadImpl(int64_t bi_hidden, int64_t answers, double dropout);
  at::Tensor forward(const at::Tensor& fused);  // [B, bi] -> [B, A]
  torch::nn::Linear dense{nullptr}, decoder{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(VilbertAnswerHead);

struct VilbertForTasksImpl : torch::nn::Module {
  VilbertForTasksImpl(const ModelConfig& text, const VilbertConfig& v, const VilbertHeadSpec& heads);
  struct Output {
    VilbertModelImpl::Output body;
    at::Tensor score;          // [B] (score head)
    at::Tensor answer_logits;  // [B, A] (answer head)
    at::Tensor region_logits;  // [B, R] (region head; IMG token included, padding not masked)
  };
  Output forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids, const at::Tensor& attention_mask,
                 const at::Tensor& features, const at::Tensor& locations, const at::Tensor& image_mask);
  ModelConfig text_config;
  VilbertConfig config;
  VilbertHeadSpec heads;
  VilbertModel bert{nullptr};
  torch::nn::Linear vil_logit{nullptr}, vision_logit{nullptr};
  VilbertAnswerHead vil_prediction{nullptr};
};
TORCH_MODULE(VilbertForTasks);

// What load_vilbert_for_tasks() did with a folder's tensors.
struct VilbertTaskLoad {
  std::vector<std::string> heads_loaded;       // head parameters found in the tensors
  bool score_from_alignment = false;           // vil_logit set from cls.bi_seq_relationship
};

// Loads a pretrained or fine-tuned ViLBERT's tensors: every body ("bert.") parameter
// must be there with its shape (an Error names the first problems); head tensors are
// loaded when present; the pretraining heads ("cls.") and the reference's unused
// tensors are ignored; any other tensor is an Error. A score head absent from the
// tensors starts as the alignment head's logit difference (aligned minus swapped),
// so that before fine-tuning it ranks pairs as zero-shot retrieval does.
VilbertTaskLoad load_vilbert_for_tasks(VilbertForTasksImpl& model, const io::TensorMap& tensors,
                                       const std::string& source);

}  // namespace cotrain::models
