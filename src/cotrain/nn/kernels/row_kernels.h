// Vectorised inner loops of the fused kernels (softmax rows, dropout masks). They
// live in a file that includes no LibTorch header: with those headers in the same
// translation unit GCC no longer vectorises the clamp in exp_approx (checked with
// objdump), and this file is also built without the LibTorch precompiled header
// (src/cotrain/CMakeLists.txt).
#pragma once
#include <cstdint>

namespace cotrain::nn::kernels::rows {

float max(const float* x, int64_t n);
// sum_i exp(x[i] - shift), for shift >= max(x).
float sum_exp(const float* x, int64_t n, float shift);
// out[i] = scale * exp((x[i] - max) - log_sum).
void softmax_scaled(const float* x, float* out, int64_t n, float max, float log_sum, float scale);

// 32 random bits for element i of the dropout call with this seed (counter-based:
// any element can be regenerated alone).
uint32_t dropout_bits(uint64_t seed, uint32_t i);
// dst[i] = dropout_bits(seed, i) >= threshold ? src[i] * scale : 0, for i in [begin, end).
void dropout_range(const float* src, float* dst, int64_t begin, int64_t end, uint64_t seed, uint32_t threshold,
                   float scale);

}  // namespace cotrain::nn::kernels::rows
