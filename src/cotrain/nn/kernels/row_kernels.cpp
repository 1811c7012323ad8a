#include "cotrain/nn/kernels/row_kernels.h"

#include <cmath>
#include <cstring>

// Lets GCC turn the clamp and selects below into vector max/blend instead of
// branches; nothing here relies on floating-point traps.
#pragma GCC optimize("no-trapping-math")

namespace cotrain::nn::kernels::rows {

namespace {

// exp(x) for x <= 88 to ~1 ulp (Cephes' expf polynomial; below -87 it returns
// exp(-87)), written so that the loops vectorise: std::exp is a library call the
// compiler cannot vectorise. Callers pass x - max or x - logsumexp, never above 0.
__attribute__((always_inline)) inline float exp_approx(float x) {
  x = x > -87.0f ? x : -87.0f;
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// The murmur3 finaliser of a 32-bit counter mixed with both halves of the seed.
__attribute__((always_inline)) inline uint32_t mix(uint32_t lo, uint32_t hi, uint32_t i) {
  uint32_t h = i * 0x9E3779B1u + lo;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  h += hi;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  return h;
}

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
