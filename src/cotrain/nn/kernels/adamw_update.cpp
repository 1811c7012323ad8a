#include "cotrain/nn/kernels/adamw_update.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

namespace cotrain::nn::kernels {

bool adamw_fusable(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                   const at::Tensor& exp_avg_sq) {
  for (const at::Tensor* t : {&param, &grad, &exp_avg, &exp_avg_sq})
    if (!t->defined() || t->device().type() != at::kCPU || t->scalar_type() != at::kFloat || !t->is_contiguous() ||
        t->numel() != param.numel())
      return false;
  return true;
}

void adamw_update(at::Tensor& param, const at::Tensor& grad, at::Tensor& exp_avg, at::Tensor& exp_avg_sq,
                  const AdamWStep& s) {
  TORCH_CHECK(adamw_fusable(param, grad, exp_avg, exp_avg_sq), "adamw_update: CPU float32 contiguous tensors");
  float* p = param.data_ptr<float>();
  const float* g = grad.data_ptr<float>();
  float* m = exp_avg.data_ptr<float>();
  float* v = exp_avg_sq.data_ptr<float>();
  const float decay = static_cast<float>(1.0 - s.lr * s.weight_decay);
  const float b1 = static_cast<float>(s.beta1), one_minus_b1 = static_cast<float>(1.0 - s.beta1);
  const float b2 = static_cast<float>(s.beta2), one_minus_b2 = static_cast<float>(1.0 - s.beta2);
  const float sqrt_bc2 = static_cast<float>(std::sqrt(s.bias_correction2));
  const float eps = static_cast<float>(s.eps);
  const float step = static_cast<float>(-s.lr / s.bias_correction1);
  const bool apply_decay = s.weight_decay != 0;
  at::parallel_for(0, param.numel(), 32768, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float gi = g[i];
      float pi = apply_decay ? p[i] * decay : p[i];
      const float mi = m[i] * b1 + gi * one_minus_b1;
      const float vi = v[i] * b2 + gi * gi * one_minus_b2;
      const float denom = std::sqrt(vi) / sqrt_bc2 + eps;
      pi += step * (mi / denom);
      p[i] = pi;
      m[i] = mi;
      v[i] = vi;
    }
  });
}

}  // namespace cotrain::nn::kernels
