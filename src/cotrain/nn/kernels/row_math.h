// Scalar building blocks of the vectorised loops (row_kernels.cpp,
// fused_row_kernels.cpp), written so that GCC vectorises loops that call them:
// the library's expf/erff are calls it cannot vectorise. Included only by
// LibTorch-free translation units (see row_kernels.h for why).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace cotrain::nn::kernels::rows {

// exp(x) for x <= 88 to ~1 ulp (Cephes' expf polynomial; below -87 it returns
// exp(-87)). Callers pass arguments that are never above 0.
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

// The murmur3 finaliser of a 32-bit counter mixed with both halves of the seed:
// the dropout mask bits of element i (see dropout.h).
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

}  // namespace cotrain::nn::kernels::rows
