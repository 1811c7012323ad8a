// Image-caption alignment prediction (ViLBERT): a binary head on the fused pooled
// vector says whether the caption belongs to the image.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::objectives {

// The reference's label convention, which zero-shot retrieval relies on: class 0 =
// the caption belongs to the image, class 1 = the caption was swapped for another.
constexpr int64_t kAligned = 0;
constexpr int64_t kSwapped = 1;

// Mean cross-entropy of logits [B, 2] against labels [B] (kAligned / kSwapped).
at::Tensor alignment_loss(const at::Tensor& logits, const at::Tensor& labels);

// softmax(logits)[:, kAligned]: the zero-shot retrieval score.
at::Tensor alignment_score(const at::Tensor& logits);

}  // namespace cotrain::objectives
