// Losses of image-text retrieval fine-tuning (unimo.md "Downstream": per positive
// pair, random negative images and captions scored by the pair head). `scores` is
// [B, K]: column 0 the positive pair's score, columns 1.. its negatives.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::tasks {

// Mean over rows of -log softmax(scores)[0].
at::Tensor retrieval_softmax_loss(const at::Tensor& scores);

// Circle loss (Sun et al., CVPR 2020) with one positive per row, on similarities
// s = sigmoid(scores) in (0, 1):
//   L = mean_b log(1 + sum_n exp(gamma a_n (s_n - m)) * exp(-gamma a_p (s_p - (1 - m))))
// with the weights a_p = max(0, 1 + m - s_p), a_n = max(0, s_n + m) held constant
// (no gradient through them, as in the paper's reference implementation).
at::Tensor retrieval_circle_loss(const at::Tensor& scores, double margin, double gamma);

}  // namespace cotrain::tasks
