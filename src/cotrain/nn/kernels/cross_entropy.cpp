#include "cotrain/nn/kernels/cross_entropy.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstring>

#include "cotrain/core/error.h"
#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/row_kernels.h"

namespace cotrain::nn::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct CrossEntropyFunction : torch::autograd::Function<CrossEntropyFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& logits_in, const at::Tensor& labels_in) {
    RECORD_USER_SCOPE("cotrain::cross_entropy");  // named in profiles (backward: its CppNode)
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
        const float m = rows::max(row, V);
        const float log_sum = std::log(rows::sum_exp(row, V, m));
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
        rows::softmax_scaled(x + i * V, g + i * V, V, st[2 * i], st[2 * i + 1], scale);
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
