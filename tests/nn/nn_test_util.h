// Helpers for the fused-op tests: relative comparison of tensors and a central
// finite-difference check of an op's backward against its forward.
#pragma once
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <functional>
#include <vector>

namespace cotrain::testing {

// max |a - b| / max(|b|max, tiny): one number a test can bound.
inline double max_rel_diff(const at::Tensor& a, const at::Tensor& b) {
  at::Tensor ad = a.to(at::kDouble), bd = b.to(at::kDouble);
  const double scale = std::max(bd.abs().max().item<double>(), 1e-30);
  return (ad - bd).abs().max().item<double>() / scale;
}

// Checks d/d inputs of sum(f(inputs) * probe) from autograd against central
// differences, element by element, on the first `max_elements` entries of each
// input that requires grad. Inputs are float32 (oneDNN has no float64 path), so
// the step is large and the tolerance relative to the gradient's magnitude.
inline void expect_finite_differences(const std::function<at::Tensor(const std::vector<at::Tensor>&)>& f,
                                      std::vector<at::Tensor> inputs, double step, double tolerance,
                                      int64_t max_elements = 24) {
  for (auto& t : inputs) t = t.detach().clone().requires_grad_(t.requires_grad());
  at::Tensor out = f(inputs);
  at::Tensor probe = at::randn(out.sizes(), out.options().dtype(at::kFloat)).to(out.scalar_type());
  at::Tensor loss = (out * probe).sum();
  std::vector<at::Tensor> wrt;
  for (auto& t : inputs)
    if (t.requires_grad()) wrt.push_back(t);
  auto grads = torch::autograd::grad({loss}, wrt);
  size_t g = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    const at::Tensor analytic = grads[g++].reshape({-1});
    const double scale = std::max(analytic.abs().max().item<double>(), 1e-6);
    const int64_t n = std::min<int64_t>(max_elements, inputs[i].numel());
    for (int64_t e = 0; e < n; ++e) {
      const int64_t k = (e * 7919) % inputs[i].numel();  // spread over the tensor
      auto eval = [&](double delta) {
        std::vector<at::Tensor> shifted;
        for (size_t j = 0; j < inputs.size(); ++j) {
          at::Tensor c = inputs[j].detach().clone();
          if (j == i) c.view({-1})[k] += delta;
          shifted.push_back(c);
        }
        at::NoGradGuard no_grad;
        return (f(shifted).to(at::kDouble) * probe.to(at::kDouble)).sum().item<double>();
      };
      const double numeric = (eval(step) - eval(-step)) / (2 * step);
      EXPECT_NEAR(analytic[k].item<double>(), numeric, tolerance * scale)
          << "input " << i << " element " << k;
    }
  }
}

}  // namespace cotrain::testing
