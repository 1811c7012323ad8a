// The oneDNN linear layer against at::linear (values and all three gradients) and
// against finite differences; and the fast-path switch.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/linear.h"
#include "nn_test_util.h"

#include <cstdlib>
#include <string>

namespace cotrain::nn::kernels {
namespace {

using cotrain::testing::expect_finite_differences;
using cotrain::testing::max_rel_diff;

struct Grads {
  at::Tensor y, dx, dw, db;
};

Grads run(bool fast, const at::Tensor& x0, const at::Tensor& w0, const at::Tensor& b0, const at::Tensor& dy) {
  at::Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
  at::Tensor b = b0.defined() ? b0.clone().requires_grad_(true) : at::Tensor();
  at::Tensor y = fast ? dnnl_linear(x, w, b) : at::linear(x, w, b);
  y.backward(dy);
  return {y.detach(), x.grad(), w.grad(), b.defined() ? b.grad() : at::Tensor()};
}

TEST(Linear, MatchesAtenValuesAndGradients) {
  at::manual_seed(4);
  at::Tensor x = at::randn({3, 17, 48}), w = at::randn({33, 48}) * 0.1, b = at::randn({33});
  at::Tensor dy = at::randn({3, 17, 33});
  Grads f = run(true, x, w, b, dy), r = run(false, x, w, b, dy);
  EXPECT_EQ(f.y.sizes(), r.y.sizes());
  EXPECT_LT(max_rel_diff(f.y, r.y), 2e-6);
  EXPECT_LT(max_rel_diff(f.dx, r.dx), 2e-6);
  EXPECT_LT(max_rel_diff(f.dw, r.dw), 2e-6);
  EXPECT_LT(max_rel_diff(f.db, r.db), 2e-6);
}

TEST(Linear, WithoutBiasAndWithTransposedInput) {
  at::manual_seed(5);
  at::Tensor x = at::randn({40, 9}).t();  // [9, 40], not contiguous
  at::Tensor w = at::randn({12, 40}), dy = at::randn({9, 12});
  Grads f = run(true, x, w, {}, dy), r = run(false, x, w, {}, dy);
  EXPECT_LT(max_rel_diff(f.y, r.y), 2e-6);
  EXPECT_LT(max_rel_diff(f.dx, r.dx), 2e-6);
  EXPECT_LT(max_rel_diff(f.dw, r.dw), 2e-6);
}

TEST(Linear, TiedWeightAccumulatesBothUses) {
  // The MLM decoder shares the word-embedding matrix: gradients of both uses add up.
  at::manual_seed(6);
  at::Tensor w0 = at::randn({20, 8});
  at::Tensor x = at::randn({5, 8});
  auto grad_of = [&](bool fast) {
    at::Tensor w = w0.clone().requires_grad_(true);
    at::Tensor y = fast ? dnnl_linear(x, w, {}) : at::linear(x, w);
    at::Tensor z = fast ? dnnl_linear(y.tanh(), w.t().contiguous(), {}) : at::linear(y.tanh(), w.t());
    z.pow(2).sum().backward();
    return w.grad();
  };
  EXPECT_LT(max_rel_diff(grad_of(true), grad_of(false)), 5e-6);
}

TEST(Linear, FiniteDifferences) {
  at::manual_seed(7);
  std::vector<at::Tensor> inputs{at::randn({6, 10}).requires_grad_(true), at::randn({7, 10}).requires_grad_(true),
                                 at::randn({7}).requires_grad_(true)};
  expect_finite_differences([](const std::vector<at::Tensor>& v) { return dnnl_linear(v[0], v[1], v[2]); }, inputs,
                            1e-2, 2e-3);
}

TEST(Linear, EmptyBatchGivesZeroGradients) {
  at::Tensor x = at::randn({0, 8}).requires_grad_(true), w = at::randn({4, 8}).requires_grad_(true);
  at::Tensor y = dnnl_linear(x, w, {});
  EXPECT_EQ(y.sizes(), (at::IntArrayRef{0, 4}));
  y.sum().backward();
  EXPECT_EQ(w.grad().abs().sum().item<double>(), 0.0);
}

TEST(Linear, SwitchChoosesThePath) {
  at::Tensor x = at::randn({4, 8}).requires_grad_(true), w = at::randn({3, 8});
  {
    FastPathsGuard off(false);
    EXPECT_EQ(fast_linear(x, w, {}).grad_fn()->name(), at::linear(x, w).grad_fn()->name());
  }
  {
    FastPathsGuard on(true);
    EXPECT_NE(fast_linear(x, w, {}).grad_fn()->name(), at::linear(x, w).grad_fn()->name());
  }
  // Doubles are never taken by oneDNN.
  at::Tensor xd = x.detach().to(at::kDouble).requires_grad_(true);
  EXPECT_LT(max_rel_diff(fast_linear(xd, w.to(at::kDouble), {}), at::linear(xd, w.to(at::kDouble))), 1e-15);
}

}  // namespace
}  // namespace cotrain::nn::kernels

namespace cotrain::nn::kernels {
namespace {

// bfloat16 operands: the three products must equal exact products of the
// bfloat16-rounded operands up to float32 accumulation error.
TEST(Linear, Bf16ProductsAreExactProductsOfRoundedOperands) {
  at::manual_seed(8);
  at::Tensor x0 = at::randn({2, 29, 64}), w0 = at::randn({48, 64}) * 0.1, b0 = at::randn({48});
  at::Tensor dy = at::randn({2, 29, 48});
  at::Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true),
             b = b0.clone().requires_grad_(true);
  at::Tensor y = dnnl_linear(x, w, b, /*bf16=*/true);
  y.backward(dy);
  auto r = [](const at::Tensor& t) { return t.to(at::kBFloat16).to(at::kDouble); };
  at::Tensor x2 = x0.reshape({-1, 64}), dy2 = dy.reshape({-1, 48});
  EXPECT_LT(max_rel_diff(y.reshape({-1, 48}), at::matmul(r(x2), r(w0).t()) + b0.to(at::kDouble)), 1e-5);
  EXPECT_LT(max_rel_diff(x.grad().reshape({-1, 64}), at::matmul(r(dy2), r(w0))), 1e-5);
  EXPECT_LT(max_rel_diff(w.grad(), at::matmul(r(dy2).t(), r(x2))), 1e-5);
  EXPECT_LT(max_rel_diff(b.grad(), dy2.sum(0)), 1e-6);
  // And it is a bfloat16 approximation of the float32 layer, not something else.
  EXPECT_LT(max_rel_diff(y, at::linear(x0, w0, b0)), 2e-2);
  EXPECT_GT(max_rel_diff(y, at::linear(x0, w0, b0)), 1e-6);
}

TEST(Linear, Bf16SwitchIsOffByDefaultAndOptIn) {
  EXPECT_EQ(bf16_matmul_enabled(), std::getenv("COTRAIN_BF16") != nullptr && std::string(std::getenv("COTRAIN_BF16")) == "1");
  at::manual_seed(9);
  at::Tensor x = at::randn({8, 32}), w = at::randn({16, 32});
  FastPathsGuard on(true);
  set_bf16_matmul(true);
  at::Tensor bf = fast_linear(x, w, {});
  set_bf16_matmul(false);
  at::Tensor fp = fast_linear(x, w, {});
  EXPECT_LT(max_rel_diff(fp, at::linear(x, w)), 2e-6);
  EXPECT_GT(max_rel_diff(bf, at::linear(x, w)), 1e-5);
}

}  // namespace
}  // namespace cotrain::nn::kernels
