// Counter-based dropout: keep rate, the backward mask equals the forward mask,
// reproducibility from at::manual_seed, and the switch back to at::dropout.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/dropout.h"
#include "nn_test_util.h"

namespace cotrain::nn::kernels {
namespace {

TEST(Dropout, KeepsTheRightFractionAndScales) {
  FastPathsGuard on(true);
  at::manual_seed(10);
  const double p = 0.1;
  at::Tensor x = at::ones({1 << 20});
  at::Tensor y = fast_dropout(x, p, true);
  const double kept = y.ne(0).to(at::kDouble).mean().item<double>();
  // 1M Bernoulli(0.9) draws: standard deviation 3e-4; 5 sigma.
  EXPECT_NEAR(kept, 0.9, 1.5e-3);
  // Kept values are scaled by 1 / (1 - p), dropped ones are exactly zero.
  at::Tensor nonzero = y.masked_select(y.ne(0));
  EXPECT_NEAR(nonzero.min().item<double>(), 1.0 / 0.9, 1e-6);
  EXPECT_NEAR(nonzero.max().item<double>(), 1.0 / 0.9, 1e-6);
}

TEST(Dropout, MasksOfNeighbouringElementsAndCallsAreIndependent) {
  // Pairs (i, i + 1) and the same i under two seeds agree about as often as
  // independent draws would (0.9^2 + 0.1^2 = 0.82).
  const int64_t n = 200000;
  int64_t same_neighbour = 0, same_seed = 0;
  for (int64_t i = 0; i < n; ++i) {
    same_neighbour += dropout_keeps(42, i, 0.1) == dropout_keeps(42, i + 1, 0.1);
    same_seed += dropout_keeps(42, i, 0.1) == dropout_keeps(43, i, 0.1);
  }
  EXPECT_NEAR(static_cast<double>(same_neighbour) / n, 0.82, 0.005);
  EXPECT_NEAR(static_cast<double>(same_seed) / n, 0.82, 0.005);
}

TEST(Dropout, BackwardUsesTheForwardMask) {
  FastPathsGuard on(true);
  at::manual_seed(11);
  at::Tensor x = (at::rand({64, 33}) + 0.5).requires_grad_(true);
  at::Tensor y = fast_dropout(x, 0.3, true);
  at::Tensor dy = at::randn({64, 33});
  y.backward(dy);
  at::Tensor mask = y.detach() / x.detach();  // 0 or 1 / 0.7
  EXPECT_LT(cotrain::testing::max_rel_diff(x.grad(), dy * mask), 1e-6);
  EXPECT_GT(mask.eq(0).sum().item<int64_t>(), 0);
}

TEST(Dropout, ReproducibleFromTheGeneratorSeed) {
  FastPathsGuard on(true);
  at::Tensor x = at::randn({1000});
  at::manual_seed(12);
  at::Tensor a = fast_dropout(x, 0.5, true);
  at::Tensor b = fast_dropout(x, 0.5, true);
  at::manual_seed(12);
  at::Tensor c = fast_dropout(x, 0.5, true);
  EXPECT_TRUE(at::equal(a, c));
  EXPECT_FALSE(at::equal(a, b));
}

TEST(Dropout, IdentityInEvalAndAtenWhenOff) {
  at::Tensor x = at::randn({100}).requires_grad_(true);
  EXPECT_TRUE(at::equal(fast_dropout(x, 0.5, false), x));
  FastPathsGuard off(false);
  at::manual_seed(13);
  at::Tensor a = fast_dropout(x, 0.5, true);
  at::manual_seed(13);
  at::Tensor b = at::dropout(x, 0.5, true);
  EXPECT_TRUE(at::equal(a, b));
}

}  // namespace
}  // namespace cotrain::nn::kernels
