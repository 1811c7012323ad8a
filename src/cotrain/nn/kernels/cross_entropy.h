// Mean softmax cross-entropy of logits [M, V] against labels [M], as one autograd
// function: forward keeps only the per-row log-sum-exp, backward writes
// (softmax - one_hot) / M in one pass over the logits. The MLM loss applies it to
// the predicted positions only, where V (the vocabulary) makes ATen's log_softmax,
// nll_loss and their backward passes (a dense one-hot gradient included) a
// noticeable part of the step.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::nn::kernels {

// Falls back to at::cross_entropy_loss when the fast paths are off or the
// logits are not CPU float32. Labels must lie in [0, V) (no ignore index: select
// the labelled rows first).
at::Tensor masked_cross_entropy(const at::Tensor& logits, const at::Tensor& labels);

// The fused path unconditionally (for the tests).
at::Tensor fused_cross_entropy(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace cotrain::nn::kernels
