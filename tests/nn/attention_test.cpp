// Fused attention against the ATen composition (values and the gradients of q, k
// and v, with a padding mask), with dropout against the same composition given
// the same mask, and finite differences.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/attention.h"
#include "cotrain/nn/kernels/dropout.h"
#include "nn_test_util.h"

namespace cotrain::nn::kernels {
namespace {

using cotrain::testing::expect_finite_differences;
using cotrain::testing::max_rel_diff;

struct Inputs {
  at::Tensor q, k, v, mask, dcontext;
};

Inputs make_inputs(int64_t B, int64_t Tq, int64_t Tk, int64_t H) {
  Inputs in;
  in.q = at::randn({B, Tq, H});
  in.k = at::randn({B, Tk, H});
  in.v = at::randn({B, Tk, H});
  // Padding: the last key positions of the second sequence are masked out.
  at::Tensor keep = at::ones({B, Tk});
  keep[B - 1].slice(0, Tk - 3) = 0;
  in.mask = ((1.0 - keep) * -10000.0).view({B, 1, 1, Tk});
  in.dcontext = at::randn({B, Tq, H});
  return in;
}

std::vector<at::Tensor> run(bool fused, const Inputs& in, int64_t heads, double p, bool training, uint64_t seed) {
  at::Tensor q = in.q.clone().requires_grad_(true), k = in.k.clone().requires_grad_(true),
             v = in.v.clone().requires_grad_(true);
  at::manual_seed(seed);
  at::Tensor c = fused ? fused_attention(q, k, v, in.mask, heads, p, training)
                       : attention_reference(q, k, v, in.mask, heads, p, training);
  c.backward(in.dcontext);
  return {c.detach(), q.grad(), k.grad(), v.grad()};
}

TEST(Attention, MatchesCompositionWithoutDropout) {
  at::manual_seed(20);
  const Inputs in = make_inputs(2, 13, 13, 24);
  for (bool training : {false, true}) {
    auto f = run(true, in, 3, training ? 0.0 : 0.1, training, 1), r = run(false, in, 3, training ? 0.0 : 0.1, training, 1);
    const char* names[] = {"context", "dq", "dk", "dv"};
    for (int i = 0; i < 4; ++i) EXPECT_LT(max_rel_diff(f[i], r[i]), 2e-6) << names[i] << " training " << training;
  }
}

TEST(Attention, CrossAttentionShapes) {
  at::manual_seed(21);
  const Inputs in = make_inputs(2, 5, 9, 16);
  auto f = run(true, in, 2, 0.0, false, 1), r = run(false, in, 2, 0.0, false, 1);
  for (int i = 0; i < 4; ++i) EXPECT_LT(max_rel_diff(f[i], r[i]), 2e-6) << i;
}

TEST(Attention, DropoutMatchesCompositionWithTheSameMask) {
  at::manual_seed(22);
  const int64_t B = 2, T = 11, H = 16, heads = 2;
  const double p = 0.2;
  const Inputs in = make_inputs(B, T, T, H);
  // The fused op draws its seed first thing; replay that draw to rebuild its mask.
  at::manual_seed(5);
  const uint64_t seed = draw_seed();
  at::Tensor keep = at::empty({B, heads, T, T});
  dropout_apply(at::ones({B, heads, T, T}), keep, p, seed);  // 0 or 1 / (1 - p)
  ASSERT_GT(keep.eq(0).sum().item<int64_t>(), 0);

  auto f = run(true, in, heads, p, true, 5);
  at::Tensor q = in.q.clone().requires_grad_(true), k = in.k.clone().requires_grad_(true),
             v = in.v.clone().requires_grad_(true);
  auto split = [&](const at::Tensor& x) { return x.view({B, T, heads, H / heads}).transpose(1, 2); };
  at::Tensor scores = at::matmul(split(q), split(k).transpose(-1, -2)) / std::sqrt(H / heads) + in.mask;
  at::Tensor c = at::matmul(at::softmax(scores, -1) * keep, split(v)).transpose(1, 2).reshape({B, T, H});
  c.backward(in.dcontext);
  EXPECT_LT(max_rel_diff(f[0], c), 2e-6);
  EXPECT_LT(max_rel_diff(f[1], q.grad()), 2e-6);
  EXPECT_LT(max_rel_diff(f[2], k.grad()), 2e-6);
  EXPECT_LT(max_rel_diff(f[3], v.grad()), 2e-6);
}

TEST(Attention, FiniteDifferences) {
  at::manual_seed(23);
  const Inputs in = make_inputs(2, 6, 6, 8);
  std::vector<at::Tensor> inputs{(in.q * 0.5).requires_grad_(true), (in.k * 0.5).requires_grad_(true),
                                 in.v.requires_grad_(true)};
  // Dropout on, with the same seed at every evaluation so the mask is fixed.
  auto f = [&](const std::vector<at::Tensor>& x) {
    at::manual_seed(77);
    return fused_attention(x[0], x[1], x[2], in.mask, 2, 0.25, true);
  };
  expect_finite_differences(f, inputs, 1e-2, 3e-3);
}

TEST(Attention, SwitchOffGivesTheComposition) {
  at::manual_seed(24);
  const Inputs in = make_inputs(2, 4, 4, 8);
  FastPathsGuard off(false);
  at::manual_seed(3);
  at::Tensor a = attention(in.q, in.k, in.v, in.mask, 2, 0.5, true);
  at::manual_seed(3);
  at::Tensor b = attention_reference(in.q, in.k, in.v, in.mask, 2, 0.5, true);
  EXPECT_TRUE(at::equal(a, b));
}

// Packed q|k|v (one [B, T, 3H] projection) against the three slices through the
// separate fused function and the composition: values and the gradient of the
// packed tensor, with and without dropout (same seed, so the same mask).
TEST(Attention, PackedSelfAttentionMatchesSeparateSlices) {
  at::manual_seed(23);
  const int64_t B = 2, T = 11, H = 24, heads = 3;
  const Inputs in = make_inputs(B, T, T, H);
  const at::Tensor qkv_in = at::randn({B, T, 3 * H});
  for (double p : {0.0, 0.25}) {
    auto run_packed = [&](bool fast) {
      FastPathsGuard guard(fast);
      at::Tensor qkv = qkv_in.clone().requires_grad_(true);
      at::manual_seed(9);
      at::Tensor c = packed_self_attention(qkv, in.mask, heads, p, true);
      c.backward(in.dcontext);
      return std::vector<at::Tensor>{c.detach(), qkv.grad()};
    };
    at::Tensor qkv = qkv_in.clone().requires_grad_(true);
    at::manual_seed(9);
    at::Tensor c = fused_attention(qkv.narrow(2, 0, H), qkv.narrow(2, H, H), qkv.narrow(2, 2 * H, H), in.mask, heads,
                                   p, true);
    c.backward(in.dcontext);
    auto packed = run_packed(true);
    EXPECT_LT(max_rel_diff(packed[0], c), 1e-6) << "context, p " << p;
    EXPECT_LT(max_rel_diff(packed[1], qkv.grad()), 1e-6) << "dqkv, p " << p;
    if (p == 0.0) {  // the composition draws its own dropout mask
      auto reference = run_packed(false);
      EXPECT_LT(max_rel_diff(packed[0], reference[0]), 2e-6) << "context against the composition";
      EXPECT_LT(max_rel_diff(packed[1], reference[1]), 2e-6) << "dqkv against the composition";
    }
  }
}

TEST(Attention, PackedSelfAttentionRefusesAWidthNotThreeTimesH) {
  EXPECT_THROW(packed_self_attention(at::randn({1, 4, 10}), {}, 2, 0.0, false), std::exception);
}

}  // namespace
}  // namespace cotrain::nn::kernels
