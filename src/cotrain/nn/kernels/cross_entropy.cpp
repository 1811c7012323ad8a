#include "cotrain/nn/kernels/cross_entropy.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstring>

#include "cotrain/core/error.h"
#include "cotrain/nn/fast_paths.h"

// Lets GCC turn the clamp below into a vector max instead of a branch (the loops
// then vectorise); nothing here relies on floating-point traps.
#pragma GCC optimize("no-trapping-math")

namespace cotrain::nn::kernels {

namespace {

// exp(x) for x <= 88 to ~1 ulp (Cephes' expf polynomial; below -87 it returns
// exp(-87)), written so that the compiler vectorises the loops below: std::exp is
// a library call it cannot. Callers pass x - max or x - logsumexp, never above 0.
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

constexpr int kLanes = 16;  // independent partial results, so the loops vectorise

// Compiled for AVX-512, AVX2 and the baseline; the loader picks one per machine.
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("no-trapping-math"))) float row_max(const float* x, int64_t n) {
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

__attribute__((target_clones("avx512f", "avx2", "default"), optimize("no-trapping-math"))) float row_sum_exp(const float* x, int64_t n,
                                                                                float shift) {
  float part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) part[j] += exp_approx(x[i + j] - shift);
  float s = 0;
  for (int j = 0; j < kLanes; ++j) s += part[j];
  for (; i < n; ++i) s += exp_approx(x[i] - shift);
  return s;
}

// out = scale * exp((x - max) - log_sum): x - max is exact, so large logits keep
// their precision (x - logsumexp would round at the logits' magnitude).
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("no-trapping-math"))) void row_softmax_scaled(const float* x, float* out,
                                                                                      int64_t n, float max,
                                                                                      float log_sum, float scale) {
  for (int64_t i = 0; i < n; ++i) out[i] = scale * exp_approx((x[i] - max) - log_sum);
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct CrossEntropyFunction : torch::autograd::Function<CrossEntropyFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& logits_in, const at::Tensor& labels_in) {
    at::Tensor logits = logits_in.contiguous();
    at::Tensor labels = labels_in.to(at::kLong).contiguous();
    const int64_t M = logits.size(0), V = logits.size(1);
    const float* x = logits.data_ptr<float>();
    const int64_t* y = labels.data_ptr<int64_t>();
    for (int64_t i = 0; i < M; ++i)
      if (y[i] < 0 || y[i] >= V) fail("cross-entropy: label {} of row {} is outside the {} classes", y[i], i, V);
    at::Tensor stats = at::empty({M, 2}, logits.options());  // row max, log of the shifted sum
    at::Tensor row_loss = at::empty({M}, logits.options().dtype(at::kDouble));
    float* st = stats.data_ptr<float>();
    double* rl = row_loss.data_ptr<double>();
    at::parallel_for(0, M, 8, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const float* row = x + i * V;
        const float m = row_max(row, V);
        const float log_sum = std::log(row_sum_exp(row, V, m));
        st[2 * i] = m;
        st[2 * i + 1] = log_sum;
        rl[i] = static_cast<double>(log_sum) - (static_cast<double>(row[y[i]]) - static_cast<double>(m));
      }
    });
    ctx->save_for_backward({logits, labels, stats});
    return (row_loss.sum() / static_cast<double>(M)).to(at::kFloat);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &logits = saved[0], &labels = saved[1], &stats = saved[2];
    const int64_t M = logits.size(0), V = logits.size(1);
    const float scale = grads[0].item<float>() / static_cast<float>(M);
    at::Tensor grad = at::empty_like(logits);
    const float* x = logits.data_ptr<float>();
    const int64_t* y = labels.data_ptr<int64_t>();
    const float* st = stats.data_ptr<float>();
    float* g = grad.data_ptr<float>();
    at::parallel_for(0, M, 8, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        row_softmax_scaled(x + i * V, g + i * V, V, st[2 * i], st[2 * i + 1], scale);
        g[i * V + y[i]] -= scale;
      }
    });
    return {grad, at::Tensor()};
  }
};

}  // namespace

at::Tensor fused_cross_entropy(const at::Tensor& logits, const at::Tensor& labels) {
  if (logits.dim() != 2 || labels.dim() != 1 || labels.size(0) != logits.size(0) || logits.size(0) == 0)
    fail("cross-entropy: logits [M, V] and labels [M] with M > 0 expected");
  return CrossEntropyFunction::apply(logits, labels);
}

at::Tensor masked_cross_entropy(const at::Tensor& logits, const at::Tensor& labels) {
  if (fast_paths_enabled() && logits.device().type() == at::kCPU && logits.scalar_type() == at::kFloat &&
      logits.dim() == 2 && logits.size(0) > 0)
    return fused_cross_entropy(logits, labels);
  return at::cross_entropy_loss(logits, labels);
}

}  // namespace cotrain::nn::kernels
