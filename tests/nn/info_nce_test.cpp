// Fused multi-positive InfoNCE against its ATen composition (masked logsumexp):
// one positive per row, several positives, padding, a learnable scale (its
// gradient too), float32 and float64, large scales, a positive far below the row
// maximum; finite differences in float64; rows without a positive refused.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "cotrain/core/error.h"
#include "cotrain/nn/kernels/info_nce.h"
#include "nn_test_util.h"

namespace cotrain::nn::kernels {
namespace {

using cotrain::testing::expect_finite_differences;
using cotrain::testing::max_rel_diff;

// Random kinds with at least one positive per row: column 0 positive, then
// positives, negatives and padding mixed.
at::Tensor random_kinds(int64_t N, int64_t W, bool several_positives) {
  at::Tensor k = at::randint(0, 3, {N, W}, at::kLong);
  if (!several_positives) k = k.clamp_min(0).masked_fill(k.eq(1), 2);  // 0 or 2
  k.select(1, 0).fill_(1);
  return k;
}

void expect_matches_reference(const at::Tensor& logits0, const at::Tensor& kinds, const at::Tensor& scale0,
                              double tolerance) {
  at::Tensor a = logits0.clone().requires_grad_(true), b = logits0.clone().requires_grad_(true);
  at::Tensor sa, sb;
  if (scale0.defined()) {
    sa = scale0.clone().requires_grad_(true);
    sb = scale0.clone().requires_grad_(true);
  }
  at::Tensor fused = fused_info_nce(a, kinds, sa);
  at::Tensor ref = info_nce_reference(b, kinds, sb);
  (fused * 1.3).backward();
  (ref * 1.3).backward();
  EXPECT_LT(max_rel_diff(fused, ref), tolerance);
  EXPECT_LT(max_rel_diff(a.grad(), b.grad()), tolerance);
  if (scale0.defined()) EXPECT_LT(max_rel_diff(sa.grad(), sb.grad()), tolerance);
}

TEST(InfoNce, OnePositivePerRowMatchesTheComposition) {
  at::manual_seed(80);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const double tol = dtype == at::kFloat ? 2e-6 : 1e-13;
    expect_matches_reference(at::randn({9, 17}, dtype), random_kinds(9, 17, false), {}, tol);
    expect_matches_reference(at::randn({3, 1}, dtype), random_kinds(3, 1, false), {}, tol);  // positive only: loss 0
    expect_matches_reference(at::randn({40, 33}, dtype), random_kinds(40, 33, false), at::full({}, 14.0, dtype), tol);
  }
}

TEST(InfoNce, SeveralPositivesAndALearnableScale) {
  at::manual_seed(81);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const double tol = dtype == at::kFloat ? 2e-6 : 1e-13;
    expect_matches_reference(at::randn({12, 23}, dtype), random_kinds(12, 23, true), at::full({}, 7.0, dtype), tol);
    expect_matches_reference(at::rand({70, 5}, dtype) * 2 - 1, random_kinds(70, 5, true), at::full({1}, 100.0, dtype),
                             tol);  // UNIMO's maximal scale on cosines
  }
}

TEST(InfoNce, StableForLargeLogitsAndAFarPositive) {
  at::Tensor logits = at::tensor({-900.0f, 50.0f, 60.0f, 0.0f, 1000.0f, 999.0f, -5.0f, 3.0f}).view({2, 4});
  at::Tensor kinds = at::tensor({1, 2, 2, 1, 1, 2, 2, 0}, at::kLong).view({2, 4});
  expect_matches_reference(logits, kinds, {}, 2e-6);
  at::Tensor far = at::tensor({-200.0f, 0.0f}).view({1, 2});
  at::Tensor far_kinds = at::tensor({1, 2}, at::kLong).view({1, 2});
  at::Tensor loss = fused_info_nce(far, far_kinds, {});
  EXPECT_NEAR(loss.item<double>(), 200.0, 1e-3);  // finite: exp(-200) is never taken alone
}

TEST(InfoNce, FiniteDifferencesInFloat64) {
  at::manual_seed(82);
  const auto opt = at::TensorOptions().dtype(at::kDouble);
  at::Tensor kinds = random_kinds(6, 9, true);
  expect_finite_differences(
      [&](const std::vector<at::Tensor>& v) { return fused_info_nce(v[0], kinds, v[1]); },
      {at::randn({6, 9}, opt).requires_grad_(true), at::full({}, 3.0, opt).requires_grad_(true)}, 1e-6, 1e-8, 54);
}

TEST(InfoNce, RefusesARowWithoutAPositive) {
  at::Tensor kinds = at::tensor({1, 2, 2, 0}, at::kLong).view({2, 2});
  EXPECT_THROW(fused_info_nce(at::randn({2, 2}), kinds, {}), cotrain::Error);
  EXPECT_THROW(fused_info_nce(at::randn({2, 2}), at::ones({2, 3}, at::kLong), {}), cotrain::Error);
}

}  // namespace
}  // namespace cotrain::nn::kernels
