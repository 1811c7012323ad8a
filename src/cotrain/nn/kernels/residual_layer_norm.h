// LayerNorm(residual + dropout(x)) over the last dimension, as one autograd
// function: the post-LN block end of BERT layers. Forward is one pass per row
// (dropout with a counter-based mask, the residual add, mean, variance, affine);
// it keeps the pre-norm sum h and two numbers per row, not the mask, which backward
// regenerates from the seed (see dropout.h). Backward is one pass per row writing
// dresidual, dx = dropout(dresidual) and the gamma/beta gradients (column sums
// over fixed row blocks, so results do not depend on the thread count).
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::nn::kernels {

// x and residual [..., H] (same shape), gamma and beta [H]. Falls back to
// at::layer_norm(fast_dropout(x) + residual) when the fast paths are off or the
// tensors are not CPU float32; the dropout masks are then those of fast_dropout
// (counter-based) or at::dropout, as the switch says.
at::Tensor residual_dropout_layer_norm(const at::Tensor& x, const at::Tensor& residual, const at::Tensor& gamma,
                                       const at::Tensor& beta, double eps, double dropout_p, bool training);

// The fused path unconditionally (tests); float32 or float64. Draws the seed
// exactly as fast_dropout does, so after the same at::manual_seed both keep the
// same elements.
at::Tensor fused_residual_dropout_layer_norm(const at::Tensor& x, const at::Tensor& residual, const at::Tensor& gamma,
                                             const at::Tensor& beta, double eps, double dropout_p, bool training);

}  // namespace cotrain::nn::kernels
