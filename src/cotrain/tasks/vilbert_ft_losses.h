// The fine-tuning losses of vilbert.md's "Downstream heads".
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::tasks {

// Retrieval options per example, in this order (the target is always option 0).
inline constexpr int64_t kRetrievalOptions = 4;  // true pair, random caption, random image, hard negative

// Softmax cross-entropy over each example's 4 scores; `scores` is [4B], example-major.
at::Tensor retrieval_loss(const at::Tensor& scores);

// VQA: binary cross-entropy of every answer logit against its soft score, summed over
// the answers and averaged over the questions (the reference's mean over B x A
// times A).
at::Tensor answer_bce_loss(const at::Tensor& logits, const at::Tensor& soft_scores);

// Grounding: binary cross-entropy of each region's score against its 0/1 target
// (IoU above the threshold), averaged over the regions with weight 1 (the real
// regions; the IMG token and padding have weight 0).
at::Tensor region_bce_loss(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& weights);

// VQA soft accuracy: the gold score of each question's highest-scoring answer,
// summed (divide by the questions for the mean).
double answer_soft_score_sum(const at::Tensor& logits, const at::Tensor& soft_scores);

}  // namespace cotrain::tasks
