// Inner loops of the fused bias+GELU and residual+dropout+LayerNorm kernels, for
// float (vectorised, polynomial exp/erf) and double (library exp/erf, used by the
// finite-difference tests). LibTorch-free for the reason given in row_kernels.h.
// Callers split rows between threads; every function works on a row range.
#pragma once
#include <cstdint>

namespace cotrain::nn::kernels::rows {

// out[i] = gelu(pre[i]) = pre[i] * Phi(pre[i]) (the exact erf form), i in [0, n).
void gelu_forward(const float* pre, float* out, int64_t n);
void gelu_forward(const double* pre, double* out, int64_t n);

// For rows [0, rows) of width cols: dpre = dout * gelu'(pre), and the column sums
// of dpre added to bias_sum[cols] (the bias gradient of this row range).
void gelu_backward(const float* dout, const float* pre, float* dpre, float* bias_sum, int64_t rows, int64_t cols);
void gelu_backward(const double* dout, const double* pre, double* dpre, double* bias_sum, int64_t rows, int64_t cols);

// Dropout parameters of one call: element e (row * cols + col) is kept when
// mix(seed, e) >= threshold and then scaled; drop == false means identity.
struct DropoutMask {
  bool drop = false;
  uint64_t seed = 0;
  uint32_t threshold = 0;
  double scale = 1.0;
};

// Rows [begin, end): h = residual + dropout(x); out = (h - mean) * rstd * gamma + beta.
// Keeps h (for backward) and stats[2 * row] = mean, stats[2 * row + 1] = rstd.
void residual_layer_norm_forward(const float* x, const float* residual, const float* gamma, const float* beta,
                                 float* h, float* out, float* stats, int64_t begin, int64_t end, int64_t cols,
                                 double eps, const DropoutMask& mask);
void residual_layer_norm_forward(const double* x, const double* residual, const double* gamma, const double* beta,
                                 double* h, double* out, double* stats, int64_t begin, int64_t end, int64_t cols,
                                 double eps, const DropoutMask& mask);

// Rows [begin, end): dh (= dresidual) and dx = dropout(dh) with the forward mask;
// dout * xhat and dout column sums added to gamma_sum and beta_sum.
void residual_layer_norm_backward(const float* dout, const float* h, const float* stats, const float* gamma,
                                  float* dresidual, float* dx, float* gamma_sum, float* beta_sum, int64_t begin,
                                  int64_t end, int64_t cols, const DropoutMask& mask);
void residual_layer_norm_backward(const double* dout, const double* h, const double* stats, const double* gamma,
                                  double* dresidual, double* dx, double* gamma_sum, double* beta_sum, int64_t begin,
                                  int64_t end, int64_t cols, const DropoutMask& mask);

}  // namespace cotrain::nn::kernels::rows
