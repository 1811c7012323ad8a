// oneDNN matrix products against ATen's, for the layouts the layers use: plain,
// transposed views of either operand, batched 4-D views with head-interleaved
// strides, bias, output scale and accumulation into an existing result.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "cotrain/core/error.h"
#include "cotrain/nn/kernels/dnnl_matmul.h"
#include "nn_test_util.h"

namespace cotrain::nn::kernels {
namespace {

using cotrain::testing::max_rel_diff;

at::Tensor reference(const at::Tensor& a, const at::Tensor& b) {
  return at::matmul(a.to(at::kDouble), b.to(at::kDouble));
}

TEST(DnnlMatmul, PlainAndTransposedOperands) {
  at::manual_seed(1);
  // Odd sizes so no kernel gets a friendly multiple of the vector width.
  const int64_t M = 37, K = 53, N = 29;
  at::Tensor a = at::randn({M, K}), b = at::randn({K, N});
  at::Tensor at_ = at::randn({K, M}).t(), bt = at::randn({N, K}).t();  // transposed views
  EXPECT_LT(max_rel_diff(dnnl_matmul(a, b), reference(a, b)), 1e-5);
  EXPECT_LT(max_rel_diff(dnnl_matmul(at_, b), reference(at_, b)), 1e-5);
  EXPECT_LT(max_rel_diff(dnnl_matmul(a, bt), reference(a, bt)), 1e-5);
  EXPECT_LT(max_rel_diff(dnnl_matmul(at_, bt), reference(at_, bt)), 1e-5);
}

TEST(DnnlMatmul, BiasScaleAndAccumulate) {
  at::manual_seed(2);
  at::Tensor a = at::randn({16, 24}), w = at::randn({40, 24}), bias = at::randn({40});
  at::Tensor expected = reference(a, w.t()) + bias.to(at::kDouble);
  EXPECT_LT(max_rel_diff(dnnl_matmul(a, w.t(), bias), expected), 1e-5);
  EXPECT_LT(max_rel_diff(dnnl_matmul(a, w.t(), {}, 0.125), reference(a, w.t()) * 0.125), 1e-5);
  at::Tensor out = at::randn({16, 40});
  at::Tensor before = out.to(at::kDouble);
  dnnl_matmul_into(a, w.t(), out, {}, 1.0, /*accumulate=*/true);
  EXPECT_LT(max_rel_diff(out, before + reference(a, w.t())), 1e-5);
}

TEST(DnnlMatmul, BatchedHeadViewsWithoutCopies) {
  at::manual_seed(3);
  // [B, T, heads * d] read as [B, heads, T, d] through strides, as attention does.
  const int64_t B = 3, T = 11, heads = 4, d = 8;
  at::Tensor q = at::randn({B, T, heads * d}).view({B, T, heads, d}).transpose(1, 2);
  at::Tensor k = at::randn({B, T, heads * d}).view({B, T, heads, d}).transpose(1, 2);
  ASSERT_FALSE(q.is_contiguous());
  at::Tensor scores = dnnl_matmul(q, k.transpose(-1, -2), {}, 0.5);
  EXPECT_LT(max_rel_diff(scores, reference(q, k.transpose(-1, -2)) * 0.5), 1e-5);
  // Writing the result straight into a [B, T, heads * d] buffer through a view.
  at::Tensor v = at::randn({B, heads, T, d});
  at::Tensor ctx = at::empty({B, T, heads * d});
  at::Tensor ctx_view = ctx.view({B, T, heads, d}).transpose(1, 2);
  dnnl_matmul_into(scores, v, ctx_view);
  EXPECT_LT(max_rel_diff(ctx, reference(scores, v).transpose(1, 2).reshape({B, T, heads * d})), 1e-5);
}

TEST(DnnlMatmul, CachesPrimitivesPerShape) {
  at::Tensor a = at::randn({5, 7}), b = at::randn({7, 3});
  dnnl_matmul(a, b);
  const int64_t after_first = dnnl_primitives_built();
  for (int i = 0; i < 5; ++i) dnnl_matmul(at::randn({5, 7}), at::randn({7, 3}));
  EXPECT_EQ(dnnl_primitives_built(), after_first);
  dnnl_matmul(at::randn({6, 7}), b);
  EXPECT_EQ(dnnl_primitives_built(), after_first + 1);
}

TEST(DnnlMatmul, RefusesWhatItCannotTake) {
  EXPECT_FALSE(dnnl_matmul_supported(at::randn({4, 4}, at::kDouble), at::randn({4, 4}, at::kDouble)));
  EXPECT_FALSE(dnnl_matmul_supported(at::randn({4, 5}), at::randn({4, 4})));                  // inner dims differ
  EXPECT_FALSE(dnnl_matmul_supported(at::randn({4}).expand({4, 4}), at::randn({4, 4})));      // zero stride
  EXPECT_FALSE(dnnl_matmul_supported(at::randn({2, 4, 4}), at::randn({3, 4, 4})));            // batch differs
  at::Tensor wrong = at::empty({4, 5});
  EXPECT_THROW(dnnl_matmul_into(at::randn({4, 4}), at::randn({4, 4}), wrong), cotrain::Error);
}

}  // namespace
}  // namespace cotrain::nn::kernels
