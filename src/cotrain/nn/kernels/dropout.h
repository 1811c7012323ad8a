// Dropout with counter-based masks: element i of a call is kept when a hash of
// (seed, i) clears the threshold, so backward regenerates the mask from the seed
// instead of storing it, and drawing it costs a few integer operations per element
// (ATen's bernoulli_ runs a Mersenne Twister per element). The seed is drawn from
// LibTorch's default CPU generator, so at::manual_seed and a resumed generator
// state reproduce the masks.
#pragma once
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace cotrain::nn::kernels {

// A fresh 64-bit seed from the default CPU generator (advances it).
uint64_t draw_seed();

// out[i] = keep(seed, i) ? in[i] / (1 - p) : 0, for float32 contiguous tensors.
// Applying it to a gradient with the same seed is dropout's backward.
void dropout_apply(const at::Tensor& in, at::Tensor& out, double p, uint64_t seed);

// Element i is kept when dropout_bits(seed, i) >= dropout_threshold(p) (for fused
// kernels that apply the same mask inside their own loops).
uint32_t dropout_threshold(double p);

// Whether element i is kept (exposed for the tests).
bool dropout_keeps(uint64_t seed, int64_t i, double p);

// Differentiable dropout; identity when !training or p == 0. Falls back to
// at::dropout when the fast paths are off or the tensor is not CPU float32.
at::Tensor fast_dropout(const at::Tensor& x, double p, bool training);

}  // namespace cotrain::nn::kernels
