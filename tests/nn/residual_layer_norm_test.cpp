// Fused LayerNorm(residual + dropout(x)) against the unfused composition with the
// same counter-based mask (value and the gradients of x, residual, gamma, beta),
// dropout 0 and > 0, widths that are and are not multiples of the vector width;
// float64 against finite differences; results independent of the thread count;
// the switch back to the composition.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/dropout.h"
#include "cotrain/nn/kernels/residual_layer_norm.h"
#include "nn_test_util.h"

namespace cotrain::nn::kernels {
namespace {

using cotrain::testing::expect_finite_differences;
using cotrain::testing::max_rel_diff;

constexpr double kEps = 1e-12;  // BERT's layer_norm_eps

// The mask the fused op draws after at::manual_seed(seed), as 0 / 1 / (1 - p)
// factors: the same draw_seed() call, then dropout_keeps per element.
at::Tensor mask_after_seed(uint64_t seed, at::IntArrayRef shape, double p, at::ScalarType dtype) {
  at::Tensor m = at::ones(shape, at::kDouble);
  if (p > 0) {
    at::manual_seed(seed);
    const uint64_t s = draw_seed();
    double* d = m.data_ptr<double>();
    for (int64_t i = 0; i < m.numel(); ++i) d[i] = dropout_keeps(s, i, p) ? 1.0 : 0.0;
    if (dtype == at::kFloat) m = m * static_cast<double>(static_cast<float>(1.0 / (1.0 - p)));
    else m = m / (1.0 - p);
  }
  return m.to(dtype);
}

void expect_matches_composition(std::vector<int64_t> shape, double p, at::ScalarType dtype, double tolerance) {
  const auto opt = at::TensorOptions().dtype(dtype);
  const int64_t H = shape.back();
  at::Tensor x0 = at::randn(shape, opt) * 2, r0 = at::randn(shape, opt) + 0.5;
  at::Tensor g0 = at::rand({H}, opt) + 0.5, b0 = at::randn({H}, opt);
  auto leaf = [](const at::Tensor& t) { return t.clone().requires_grad_(true); };
  at::Tensor x1 = leaf(x0), r1 = leaf(r0), g1 = leaf(g0), b1 = leaf(b0);
  at::Tensor x2 = leaf(x0), r2 = leaf(r0), g2 = leaf(g0), b2 = leaf(b0);
  const uint64_t seed = 77;
  at::Tensor mask = mask_after_seed(seed, shape, p, dtype);
  at::manual_seed(seed);
  at::Tensor fused = fused_residual_dropout_layer_norm(x1, r1, g1, b1, kEps, p, true);
  at::Tensor ref = at::layer_norm(x2 * mask + r2, {H}, g2, b2, kEps);
  at::Tensor probe = at::randn(shape, opt);
  (fused * probe).sum().backward();
  (ref * probe).sum().backward();
  EXPECT_LT(max_rel_diff(fused, ref), tolerance) << "p " << p;
  EXPECT_LT(max_rel_diff(x1.grad(), x2.grad()), tolerance) << "p " << p;
  EXPECT_LT(max_rel_diff(r1.grad(), r2.grad()), tolerance) << "p " << p;
  EXPECT_LT(max_rel_diff(g1.grad(), g2.grad()), tolerance) << "p " << p;
  EXPECT_LT(max_rel_diff(b1.grad(), b2.grad()), tolerance) << "p " << p;
  if (p > 0) {  // dropped elements get exactly no gradient
    EXPECT_TRUE(x1.grad().masked_select(mask.eq(0)).eq(0).all().item<bool>());
    EXPECT_GT(mask.eq(0).sum().item<int64_t>(), 0);
  }
}

TEST(ResidualLayerNorm, MatchesTheCompositionInFloat32) {
  at::manual_seed(70);
  for (double p : {0.0, 0.1, 0.5}) {
    expect_matches_composition({4, 7, 33}, p, at::kFloat, 3e-6);
    expect_matches_composition({3, 1, 17}, p, at::kFloat, 3e-6);
    expect_matches_composition({2, 64, 256}, p, at::kFloat, 3e-6);  // BERT-like, 128 rows
    expect_matches_composition({131, 5}, p, at::kFloat, 3e-6);      // narrower than a vector
  }
}

TEST(ResidualLayerNorm, MatchesTheCompositionInFloat64) {
  at::manual_seed(71);
  for (double p : {0.0, 0.3}) {
    expect_matches_composition({5, 33}, p, at::kDouble, 1e-12);
    expect_matches_composition({2, 70, 16}, p, at::kDouble, 1e-12);
  }
}

TEST(ResidualLayerNorm, FusedDropoutKeepsWhatFastDropoutKeeps) {
  FastPathsGuard on(true);
  at::Tensor x = at::randn({6, 40}), r = at::randn({6, 40}), g = at::ones({40}), b = at::zeros({40});
  at::manual_seed(72);
  at::Tensor fused = fused_residual_dropout_layer_norm(x, r, g, b, kEps, 0.25, true);
  at::manual_seed(72);
  at::Tensor ref = at::layer_norm(fast_dropout(x, 0.25, true) + r, {40}, g, b, kEps);
  EXPECT_LT(max_rel_diff(fused, ref), 2e-6);
}

TEST(ResidualLayerNorm, FiniteDifferencesInFloat64) {
  const auto opt = at::TensorOptions().dtype(at::kDouble);
  for (double p : {0.0, 0.3}) {
    at::manual_seed(73);
    // Every evaluation re-seeds, so the finite differences see one fixed mask.
    auto f = [p](const std::vector<at::Tensor>& v) {
      at::manual_seed(5);
      return fused_residual_dropout_layer_norm(v[0], v[1], v[2], v[3], 1e-5, p, true);
    };
    expect_finite_differences(f,
                              {at::randn({3, 19}, opt).requires_grad_(true), at::randn({3, 19}, opt).requires_grad_(true),
                               (at::rand({19}, opt) + 0.5).requires_grad_(true), at::randn({19}, opt).requires_grad_(true)},
                              1e-6, 1e-8, 57);
  }
}

TEST(ResidualLayerNorm, SameResultsOnOneAndTwoThreads) {
  const int previous = at::get_num_threads();
  at::Tensor x = at::randn({300, 48}), r = at::randn({300, 48}), g = at::rand({48}), b = at::randn({48});
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    at::Tensor xl = x.clone().requires_grad_(true), gl = g.clone().requires_grad_(true);
    at::manual_seed(74);
    at::Tensor y = fused_residual_dropout_layer_norm(xl, r, gl, b, kEps, 0.1, true);
    y.backward(at::ones_like(y) * 0.3 + x);
    return std::vector<at::Tensor>{y.detach(), xl.grad(), gl.grad()};
  };
  auto one = run(1), two = run(2);
  at::set_num_threads(previous);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(at::equal(one[i], two[i])) << i;
}

TEST(ResidualLayerNorm, EvalModeIsNoDropout) {
  at::Tensor x = at::randn({5, 21}), r = at::randn({5, 21}), g = at::rand({21}), b = at::randn({21});
  at::Tensor y = fused_residual_dropout_layer_norm(x, r, g, b, kEps, 0.5, false);
  EXPECT_LT(max_rel_diff(y, at::layer_norm(x + r, {21}, g, b, kEps)), 2e-6);
}

TEST(ResidualLayerNorm, SwitchOffIsTheComposition) {
  FastPathsGuard off(false);
  at::Tensor x = at::randn({5, 21}), r = at::randn({5, 21}), g = at::rand({21}), b = at::randn({21});
  at::manual_seed(75);
  at::Tensor a = residual_dropout_layer_norm(x, r, g, b, kEps, 0.2, true);
  at::manual_seed(75);
  at::Tensor c = at::layer_norm(at::dropout(x, 0.2, true) + r, {21}, g, b, kEps);
  EXPECT_TRUE(at::equal(a, c));
}

}  // namespace
}  // namespace cotrain::nn::kernels
