#include "cotrain/nn/kernels/row_kernels.h"

#include <cmath>
#include <cstring>

// Lets GCC turn the clamp and selects below into vector max/blend instead of
// branches; nothing here relies on floating-point traps.
#pragma GCC optimize("no-trapping-math")

#include "cotrain/nn/kernels/row_math.h"

namespace cotrain::nn::kernels::rows {

namespace {

constexpr int kLanes = 16;  // independent partial results, so the reductions vectorise

}  // namespace

// Each compiled for AVX-512, AVX2 and the baseline; the loader picks one per machine.
#define COTRAIN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

COTRAIN_CLONES float max(const float* x, int64_t n) {
  float part[kLanes];
  for (int j = 0; j < kLanes; ++j) part[j] = -INFINITY;
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) part[j] = x[i + j] > part[j] ? x[i + j] : part[j];
  float m = -INFINITY;
  for (int j = 0; j < kLanes; ++j) m = part[j] > m ? part[j] : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

COTRAIN_CLONES float sum_exp(const float* x, int64_t n, float shift) {
  float part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) part[j] += exp_approx(x[i + j] - shift);
  float s = 0;
  for (int j = 0; j < kLanes; ++j) s += part[j];
  for (; i < n; ++i) s += exp_approx(x[i] - shift);
  return s;
}

COTRAIN_CLONES void softmax_scaled(const float* x, float* out, int64_t n, float max, float log_sum, float scale) {
  for (int64_t i = 0; i < n; ++i) out[i] = scale * exp_approx((x[i] - max) - log_sum);
}

uint32_t dropout_bits(uint64_t seed, uint32_t i) {
  return mix(static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), i);
}

COTRAIN_CLONES void dropout_range(const float* src, float* dst, int64_t begin, int64_t end, uint64_t seed,
                                  uint32_t threshold, float scale) {
  const uint32_t lo = static_cast<uint32_t>(seed), hi = static_cast<uint32_t>(seed >> 32);
  for (int64_t i = begin; i < end; ++i)
    dst[i] = mix(lo, hi, static_cast<uint32_t>(i)) >= threshold ? src[i] * scale : 0.0f;
}

}  // namespace cotrain::nn::kernels::rows
