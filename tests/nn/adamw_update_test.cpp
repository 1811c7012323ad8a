// The fused AdamW update against the ATen composition of torch.optim.AdamW's
// formula (the fallback in train/adamw.cpp), over several steps.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "cotrain/nn/kernels/adamw_update.h"
#include "nn_test_util.h"

namespace cotrain::nn::kernels {
namespace {

TEST(AdamWUpdate, MatchesCompositionOverSteps) {
  at::manual_seed(30);
  for (double wd : {0.0, 0.01}) {
    const at::Tensor p0 = at::randn({1000, 37});
    at::Tensor p_fused = p0.clone(), p_ref = p0.clone();
    at::Tensor m_fused = at::zeros_like(p_fused), v_fused = at::zeros_like(p_fused);
    at::Tensor m_ref = m_fused.clone(), v_ref = v_fused.clone();
    const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int step = 1; step <= 5; ++step) {
      at::Tensor g = at::randn_like(p_fused) * (step % 2 ? 1.0 : 1e-3);
      const double bc1 = 1 - std::pow(b1, step), bc2 = 1 - std::pow(b2, step);
      AdamWStep s;
      s.lr = lr;
      s.weight_decay = wd;
      s.bias_correction1 = bc1;
      s.bias_correction2 = bc2;
      adamw_update(p_fused, g, m_fused, v_fused, s);
      // torch.optim.AdamW (single-tensor path), written with ATen ops.
      p_ref.mul_(1 - lr * wd);
      m_ref.mul_(b1).add_(g, 1 - b1);
      v_ref.mul_(b2).addcmul_(g, g, 1 - b2);
      at::Tensor denom = (v_ref.sqrt() / std::sqrt(bc2)).add_(eps);
      p_ref.addcdiv_(m_ref, denom, -lr / bc1);
    }
    EXPECT_LT(cotrain::testing::max_rel_diff(m_fused, m_ref), 1e-6) << wd;
    EXPECT_LT(cotrain::testing::max_rel_diff(v_fused, v_ref), 1e-6) << wd;
    // Parameters move by ~lr per step: compare the movement (rounding of p itself,
    // one ulp of |p| ~ 4, would otherwise dominate).
    EXPECT_LT(cotrain::testing::max_rel_diff(p_fused - p0, p_ref - p0), 1e-3) << wd;
  }
}

TEST(AdamWUpdate, RefusesOtherLayouts) {
  at::Tensor p = at::randn({4, 4});
  EXPECT_FALSE(adamw_fusable(p.t(), p, p, p));
  EXPECT_FALSE(adamw_fusable(p.to(at::kDouble), p, p, p));
  EXPECT_FALSE(adamw_fusable(p, at::randn({5}), p, p));
  EXPECT_TRUE(adamw_fusable(p, p, p, p));
}

}  // namespace
}  // namespace cotrain::nn::kernels
