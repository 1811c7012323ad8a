// InfoNCE with any number of positives per row, over a matrix of similarities
// gathered per row (the contrastive objectives' [N, W] candidate logits), as one
// autograd function:
//
//   loss = mean_i [ logsumexp_{j: kind_ij != 0} (s * L_ij) - logsumexp_{j: kind_ij == 1} (s * L_ij) ]
//
// kind 0 = padding (ignored), 1 = positive, 2 = negative; s a scalar tensor (the
// inverse temperature, learnable as in UNIMO's CMCL) or undefined for 1. Forward
// keeps three numbers per row; backward writes dL = s * (softmax over the valid
// cells - softmax over the positives) / N and ds = sum(L * that) / N in one pass,
// with no log-softmax copies. With one positive this is the usual InfoNCE /
// cross-entropy against the positive column.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::nn::kernels {

// Whether the fused function takes these logits (CPU float32 or float64, 2-D, N > 0).
bool fused_info_nce_supports(const at::Tensor& logits);

// logits [N, W]; kinds [N, W] integer; scale a one-element tensor or undefined.
// Every row needs at least one positive (a cotrain::Error otherwise).
at::Tensor fused_info_nce(const at::Tensor& logits, const at::Tensor& kinds, const at::Tensor& scale);

// The same loss as an ATen composition (masked logsumexp), the reference.
at::Tensor info_nce_reference(const at::Tensor& logits, const at::Tensor& kinds, const at::Tensor& scale);

}  // namespace cotrain::nn::kernels
