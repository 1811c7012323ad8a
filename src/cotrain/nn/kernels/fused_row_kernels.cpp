#include "cotrain/nn/kernels/fused_row_kernels.h"

#include <cmath>

// As in row_kernels.cpp: selects become vector blends; nothing here relies on traps.
#pragma GCC optimize("no-trapping-math")

#include "cotrain/nn/kernels/row_math.h"

namespace cotrain::nn::kernels::rows {

namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// Phi(x) and x * phi(x), the two terms of gelu'(x) = Phi(x) + x phi(x), sharing one
// exponential. Float: erfc by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7,
// the approximation ATen's vectorised erf uses too), written without branches.
__attribute__((always_inline)) inline void cdf_density(float x, float& cdf, float& x_density) {
  const float z = x * static_cast<float>(kInvSqrt2);
  const float az = z < 0.0f ? -z : z;
  const float e = exp_approx(-z * z);  // exp(-x^2 / 2)
  const float t = 1.0f / (1.0f + 0.3275911f * az);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  const float half_erfc = 0.5f * poly * t * e;  // (1 - erf|z|) / 2
  cdf = z < 0.0f ? half_erfc : 1.0f - half_erfc;
  x_density = x * e * static_cast<float>(kInvSqrt2Pi);
}

inline void cdf_density(double x, double& cdf, double& x_density) {
  cdf = 0.5 * std::erfc(-x * kInvSqrt2);
  x_density = x * std::exp(-0.5 * x * x) * kInvSqrt2Pi;
}

template <typename T>
__attribute__((always_inline)) inline void gelu_forward_impl(const T* pre, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T cdf, xd;
    cdf_density(pre[i], cdf, xd);
    out[i] = pre[i] * cdf;
  }
}

template <typename T>
__attribute__((always_inline)) inline void gelu_backward_impl(const T* dout, const T* pre, T* dpre, T* bias_sum,
                                                              int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* go = dout + r * cols;
    const T* x = pre + r * cols;
    T* d = dpre + r * cols;
    for (int64_t j = 0; j < cols; ++j) {
      T cdf, xd;
      cdf_density(x[j], cdf, xd);
      const T v = go[j] * (cdf + xd);
      d[j] = v;
      bias_sum[j] += v;
    }
  }
}

constexpr int kLanes = 16;  // independent partial sums, so the row reductions vectorise

template <typename T>
__attribute__((always_inline)) inline T lane_sum(const T* part) {
  T s = 0;
  for (int j = 0; j < kLanes; ++j) s += part[j];
  return s;
}

// Dropout of element e, exactly as dropout_apply computes it: v * scale or 0.
template <typename T>
__attribute__((always_inline)) inline T dropped(T v, uint32_t lo, uint32_t hi, uint32_t e, uint32_t threshold,
                                                T scale) {
  return mix(lo, hi, e) >= threshold ? v * scale : T(0);
}

template <typename T, bool Drop>
__attribute__((always_inline)) inline void ln_forward_impl(const T* x, const T* residual, const T* gamma,
                                                           const T* beta, T* h, T* out, T* stats, int64_t begin,
                                                           int64_t end, int64_t cols, double eps,
                                                           const DropoutMask& mask) {
  const uint32_t lo = static_cast<uint32_t>(mask.seed), hi = static_cast<uint32_t>(mask.seed >> 32);
  const T scale = static_cast<T>(mask.scale);
  const T inv_cols = T(1) / static_cast<T>(cols);
  for (int64_t r = begin; r < end; ++r) {
    const T* xr = x + r * cols;
    const T* rr = residual + r * cols;
    T* hr = h + r * cols;
    const uint32_t base = static_cast<uint32_t>(r * cols);
    // h and its sum.
    T part[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const int64_t c = j + l;
        const T v = rr[c] + (Drop ? dropped(xr[c], lo, hi, base + static_cast<uint32_t>(c), mask.threshold, scale) : xr[c]);
        hr[c] = v;
        part[l] += v;
      }
    T sum = lane_sum(part);
    for (; j < cols; ++j) {
      const T v = rr[j] + (Drop ? dropped(xr[j], lo, hi, base + static_cast<uint32_t>(j), mask.threshold, scale) : xr[j]);
      hr[j] = v;
      sum += v;
    }
    const T mean = sum * inv_cols;
    // Biased variance about the mean (two passes over a row that sits in L1).
    T sq[kLanes] = {};
    j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const T d = hr[j + l] - mean;
        sq[l] += d * d;
      }
    T var = lane_sum(sq);
    for (; j < cols; ++j) var += (hr[j] - mean) * (hr[j] - mean);
    var *= inv_cols;
    const T rstd = T(1) / std::sqrt(var + static_cast<T>(eps));
    stats[2 * r] = mean;
    stats[2 * r + 1] = rstd;
    T* o = out + r * cols;
    for (int64_t c = 0; c < cols; ++c) o[c] = (hr[c] - mean) * rstd * gamma[c] + beta[c];
  }
}

template <typename T, bool Drop>
__attribute__((always_inline)) inline void ln_backward_impl(const T* dout, const T* h, const T* stats, const T* gamma,
                                                            T* dresidual, T* dx, T* gamma_sum, T* beta_sum,
                                                            int64_t begin, int64_t end, int64_t cols,
                                                            const DropoutMask& mask) {
  const uint32_t lo = static_cast<uint32_t>(mask.seed), hi = static_cast<uint32_t>(mask.seed >> 32);
  const T scale = static_cast<T>(mask.scale);
  const T inv_cols = T(1) / static_cast<T>(cols);
  for (int64_t r = begin; r < end; ++r) {
    const T* go = dout + r * cols;
    const T* hr = h + r * cols;
    const T mean = stats[2 * r], rstd = stats[2 * r + 1];
    // sum(dout * gamma) and sum(dout * gamma * xhat); the parameter gradients.
    T pa[kLanes] = {}, pb[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= cols; j += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const int64_t c = j + l;
        const T xhat = (hr[c] - mean) * rstd;
        const T g = go[c] * gamma[c];
        pa[l] += g;
        pb[l] += g * xhat;
        gamma_sum[c] += go[c] * xhat;
        beta_sum[c] += go[c];
      }
    T a = lane_sum(pa), b = lane_sum(pb);
    for (; j < cols; ++j) {
      const T xhat = (hr[j] - mean) * rstd;
      const T g = go[j] * gamma[j];
      a += g;
      b += g * xhat;
      gamma_sum[j] += go[j] * xhat;
      beta_sum[j] += go[j];
    }
    a *= inv_cols;
    b *= inv_cols;
    T* dr = dresidual + r * cols;
    T* dxr = dx + r * cols;
    const uint32_t base = static_cast<uint32_t>(r * cols);
    for (int64_t c = 0; c < cols; ++c) {
      const T xhat = (hr[c] - mean) * rstd;
      const T dh = rstd * (go[c] * gamma[c] - a - xhat * b);
      dr[c] = dh;
      dxr[c] = Drop ? dropped(dh, lo, hi, base + static_cast<uint32_t>(c), mask.threshold, scale) : dh;
    }
  }
}

}  // namespace

// Float entry points compiled for AVX-512, AVX2 and the baseline (see row_kernels.cpp).
#define COTRAIN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

COTRAIN_CLONES void gelu_forward(const float* pre, float* out, int64_t n) { gelu_forward_impl(pre, out, n); }
void gelu_forward(const double* pre, double* out, int64_t n) { gelu_forward_impl(pre, out, n); }

COTRAIN_CLONES void gelu_backward(const float* dout, const float* pre, float* dpre, float* bias_sum, int64_t rows,
                                  int64_t cols) {
  gelu_backward_impl(dout, pre, dpre, bias_sum, rows, cols);
}
void gelu_backward(const double* dout, const double* pre, double* dpre, double* bias_sum, int64_t rows,
                   int64_t cols) {
  gelu_backward_impl(dout, pre, dpre, bias_sum, rows, cols);
}

COTRAIN_CLONES void residual_layer_norm_forward(const float* x, const float* residual, const float* gamma,
                                                const float* beta, float* h, float* out, float* stats, int64_t begin,
                                                int64_t end, int64_t cols, double eps, const DropoutMask& mask) {
  if (mask.drop)
    ln_forward_impl<float, true>(x, residual, gamma, beta, h, out, stats, begin, end, cols, eps, mask);
  else
    ln_forward_impl<float, false>(x, residual, gamma, beta, h, out, stats, begin, end, cols, eps, mask);
}
void residual_layer_norm_forward(const double* x, const double* residual, const double* gamma, const double* beta,
                                 double* h, double* out, double* stats, int64_t begin, int64_t end, int64_t cols,
                                 double eps, const DropoutMask& mask) {
  if (mask.drop)
    ln_forward_impl<double, true>(x, residual, gamma, beta, h, out, stats, begin, end, cols, eps, mask);
  else
    ln_forward_impl<double, false>(x, residual, gamma, beta, h, out, stats, begin, end, cols, eps, mask);
}

COTRAIN_CLONES void residual_layer_norm_backward(const float* dout, const float* h, const float* stats,
                                                 const float* gamma, float* dresidual, float* dx, float* gamma_sum,
                                                 float* beta_sum, int64_t begin, int64_t end, int64_t cols,
                                                 const DropoutMask& mask) {
  if (mask.drop)
    ln_backward_impl<float, true>(dout, h, stats, gamma, dresidual, dx, gamma_sum, beta_sum, begin, end, cols, mask);
  else
    ln_backward_impl<float, false>(dout, h, stats, gamma, dresidual, dx, gamma_sum, beta_sum, begin, end, cols, mask);
}
void residual_layer_norm_backward(const double* dout, const double* h, const double* stats, const double* gamma,
                                  double* dresidual, double* dx, double* gamma_sum, double* beta_sum, int64_t begin,
                                  int64_t end, int64_t cols, const DropoutMask& mask) {
  if (mask.drop)
    ln_backward_impl<double, true>(dout, h, stats, gamma, dresidual, dx, gamma_sum, beta_sum, begin, end, cols, mask);
  else
    ln_backward_impl<double, false>(dout, h, stats, gamma, dresidual, dx, gamma_sum, beta_sum, begin, end, cols, mask);
}

}  // namespace cotrain::nn::kernels::rows
