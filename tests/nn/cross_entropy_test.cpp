// Fused softmax cross-entropy against at::cross_entropy_loss (loss and gradient,
// including large logits and a vocabulary-sized row), finite differences, and
// refusal of labels outside the classes.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "cotrain/core/error.h"
#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/cross_entropy.h"
#include "nn_test_util.h"

namespace cotrain::nn::kernels {
namespace {

using cotrain::testing::expect_finite_differences;
using cotrain::testing::max_rel_diff;

void expect_matches_aten(const at::Tensor& logits0, const at::Tensor& labels, double tolerance) {
  at::Tensor a = logits0.clone().requires_grad_(true), b = logits0.clone().requires_grad_(true);
  at::Tensor fused = fused_cross_entropy(a, labels);
  at::Tensor ref = at::cross_entropy_loss(b, labels);
  (fused * 1.7).backward();
  (ref * 1.7).backward();
  EXPECT_LT(max_rel_diff(fused, ref), tolerance);
  EXPECT_LT(max_rel_diff(a.grad(), b.grad()), tolerance);
}

TEST(CrossEntropy, MatchesAtenOnSmallAndVocabularySizedRows) {
  at::manual_seed(40);
  expect_matches_aten(at::randn({7, 5}), at::randint(0, 5, {7}), 1e-6);
  expect_matches_aten(at::randn({9, 37}) * 4, at::randint(0, 37, {9}), 1e-6);  // 37: not a multiple of 16
  expect_matches_aten(at::randn({6, 30522}) * 3, at::randint(0, 30522, {6}), 1e-6);
}

TEST(CrossEntropy, StableForLargeLogits) {
  at::Tensor logits = at::randn({4, 50}) * 10 + 1000;  // exp would overflow without the max shift
  expect_matches_aten(logits, at::randint(0, 50, {4}), 1e-6);
  at::Tensor very_negative = at::randn({4, 50}) * 30 - 500;
  expect_matches_aten(very_negative, at::randint(0, 50, {4}), 1e-6);
}

TEST(CrossEntropy, FiniteDifferences) {
  at::manual_seed(41);
  at::Tensor labels = at::randint(0, 11, {5});
  expect_finite_differences([&](const std::vector<at::Tensor>& v) { return fused_cross_entropy(v[0], labels); },
                            {at::randn({5, 11}).requires_grad_(true)}, 1e-2, 2e-3, 55);
}

TEST(CrossEntropy, RefusesLabelsOutsideTheClasses) {
  EXPECT_THROW(fused_cross_entropy(at::randn({2, 4}), at::tensor({1, 4}, at::kLong)), cotrain::Error);
  EXPECT_THROW(fused_cross_entropy(at::randn({2, 4}), at::tensor({-100, 1}, at::kLong)), cotrain::Error);
}

TEST(CrossEntropy, SwitchOffIsAten) {
  FastPathsGuard off(false);
  at::Tensor x = at::randn({3, 6}), y = at::randint(0, 6, {3});
  EXPECT_TRUE(at::equal(masked_cross_entropy(x, y), at::cross_entropy_loss(x, y)));
}

}  // namespace
}  // namespace cotrain::nn::kernels
