// gelu(x W^T + b) as one autograd function, GELU in BERT's exact erf form. The
// product runs through oneDNN with the bias added in its epilogue, GELU in one pass
// over the result; only the pre-activation is kept (the output is what the next
// layer saves anyway). Backward makes one pass for dpre = dout * gelu'(pre) and
// the bias gradient (column sums), then the two products.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::nn::kernels {

// x [..., in], weight [out, in], bias [out] or undefined. Falls back to
// at::gelu(fast_linear(...)) when the fast paths are off or the operands are not
// CPU float32/float64 with a bias.
at::Tensor linear_gelu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// The fused path unconditionally (tests). Float32 products go through oneDNN
// (bf16 operands when asked), float64 through ATen (for finite differences).
at::Tensor fused_linear_gelu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, bool bf16 = false);

}  // namespace cotrain::nn::kernels
