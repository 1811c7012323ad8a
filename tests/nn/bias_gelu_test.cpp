// Fused linear + bias + GELU against the unfused composition at::gelu(at::linear)
// (value and the gradients of x, W and b; float32 shapes whose widths are and are
// not multiples of the vector width), float64 against float64 and against finite
// differences, the float32 GELU against the exact one over a wide range, and the
// switch back to the composition.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>

#include <cmath>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/bias_gelu.h"
#include "nn_test_util.h"

namespace cotrain::nn::kernels {
namespace {

using cotrain::testing::expect_finite_differences;
using cotrain::testing::max_rel_diff;

// Same inputs through both; an upstream gradient that is not all ones.
void expect_matches_composition(std::vector<int64_t> x_shape, int64_t out, at::ScalarType dtype, double tolerance) {
  const auto opt = at::TensorOptions().dtype(dtype);
  const int64_t in = x_shape.back();
  at::Tensor x0 = at::randn(x_shape, opt), w0 = at::randn({out, in}, opt) / std::sqrt(double(in)),
             b0 = at::randn({out}, opt);
  auto leaf = [](const at::Tensor& t) { return t.clone().requires_grad_(true); };
  at::Tensor x1 = leaf(x0), w1 = leaf(w0), b1 = leaf(b0), x2 = leaf(x0), w2 = leaf(w0), b2 = leaf(b0);
  at::Tensor fused = fused_linear_gelu(x1, w1, b1);
  at::Tensor ref = at::gelu(at::linear(x2, w2, b2));
  ASSERT_EQ(fused.sizes(), ref.sizes());
  at::Tensor probe = at::randn(ref.sizes(), opt);
  (fused * probe).sum().backward();
  (ref * probe).sum().backward();
  EXPECT_LT(max_rel_diff(fused, ref), tolerance);
  EXPECT_LT(max_rel_diff(x1.grad(), x2.grad()), tolerance);
  EXPECT_LT(max_rel_diff(w1.grad(), w2.grad()), tolerance);
  EXPECT_LT(max_rel_diff(b1.grad(), b2.grad()), tolerance);
}

TEST(BiasGelu, MatchesTheCompositionInFloat32) {
  at::manual_seed(60);
  expect_matches_composition({2, 5, 7}, 13, at::kFloat, 2e-6);     // nothing a multiple of 16
  expect_matches_composition({3, 17}, 33, at::kFloat, 2e-6);
  expect_matches_composition({4, 32, 256}, 1024, at::kFloat, 2e-6);  // BERT-like FFN (M = 128)
  expect_matches_composition({130, 64}, 65, at::kFloat, 2e-6);       // row blocks 64 + 64 + 2
}

TEST(BiasGelu, MatchesTheCompositionInFloat64) {
  at::manual_seed(61);
  expect_matches_composition({2, 5, 7}, 13, at::kDouble, 1e-13);
  expect_matches_composition({70, 19}, 31, at::kDouble, 1e-13);
}

TEST(BiasGelu, FiniteDifferencesInFloat64) {
  at::manual_seed(62);
  const auto opt = at::TensorOptions().dtype(at::kDouble);
  expect_finite_differences([](const std::vector<at::Tensor>& v) { return fused_linear_gelu(v[0], v[1], v[2]); },
                            {at::randn({3, 5}, opt).requires_grad_(true), at::randn({7, 5}, opt).requires_grad_(true),
                             at::randn({7}, opt).requires_grad_(true)},
                            1e-6, 1e-8, 35);
}

// With W = I and b = 0 the product is exact, so this isolates the float32 GELU and
// its derivative. Against the exact erf form in float64: the A&S erfc has absolute
// error <= 1.5e-7 (so GELU's <= 0.75e-7 |x|) plus float32 rounding of x * Phi(x).
TEST(BiasGelu, Float32GeluAndDerivativeAgainstTheExactForm) {
  const int64_t n = 4001;
  at::Tensor x = at::linspace(-12, 12, n, at::kDouble);
  at::Tensor xf = x.to(at::kFloat).view({n, 1}).requires_grad_(true);
  at::Tensor w = at::ones({1, 1}), b = at::zeros({1});
  at::Tensor y = fused_linear_gelu(xf, w, b).view({n});
  y.backward(at::ones({n}));
  at::Tensor xd = xf.detach().to(at::kDouble).view({n});
  at::Tensor cdf = 0.5 * at::erfc(-xd / std::sqrt(2.0));
  at::Tensor exact = xd * cdf;
  at::Tensor exact_grad = cdf + xd * at::exp(-0.5 * xd * xd) / std::sqrt(2 * M_PI);
  at::Tensor bound = 1e-7 * xd.abs() + 1.2e-7 * (1 + exact.abs());
  EXPECT_TRUE((y.to(at::kDouble) - exact).abs().le(bound).all().item<bool>())
      << "max error " << (y.to(at::kDouble) - exact).abs().max().item<double>();
  at::Tensor grad_err = (xf.grad().view({n}).to(at::kDouble) - exact_grad).abs();
  EXPECT_LT(grad_err.max().item<double>(), 4e-7);
  // The tails: vanishing (gelu(-12) = -2e-32) and exactly x far out, never NaN.
  EXPECT_LT(std::abs(y[0].item<float>()), 1e-30f);
  EXPECT_EQ(y[n - 1].item<float>(), 12.0f);
  EXPECT_FALSE(y.isnan().any().item<bool>());
}

TEST(BiasGelu, SwitchOffIsTheComposition) {
  FastPathsGuard off(false);
  at::Tensor x = at::randn({4, 9}), w = at::randn({6, 9}), b = at::randn({6});
  EXPECT_TRUE(at::equal(linear_gelu(x, w, b), at::gelu(at::linear(x, w, b))));
}

TEST(BiasGelu, SwitchOnTakesTheFusedPath) {
  FastPathsGuard on(true);
  at::Tensor x = at::randn({4, 9}), w = at::randn({6, 9}), b = at::randn({6}).requires_grad_(true);
  at::Tensor y = linear_gelu(x, w, b);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_NE(y.grad_fn()->name().find("LinearGeluFunction"), std::string::npos) << y.grad_fn()->name();
}

}  // namespace
}  // namespace cotrain::nn::kernels
