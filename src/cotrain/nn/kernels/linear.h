// y = x W^T + b with all three products (forward, dx, dW) through oneDNN, as one
// autograd function. The weight stays in PyTorch's [out, in] layout: oneDNN reads it
// transposed in place, so nothing is repacked between steps as weights change.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::nn::kernels {

// x [..., in], weight [out, in], bias [out] or undefined. Falls back to at::linear
// for anything oneDNN does not take (other dtypes, devices) or when the fast paths
// are off.
at::Tensor fast_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

// The oneDNN path unconditionally (tests compare it with at::linear); bf16: the
// three products take bfloat16-rounded operands (float32 accumulation and result).
at::Tensor dnnl_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, bool bf16 = false);

}  // namespace cotrain::nn::kernels
