// The contrastive objectives with the fast paths on (fused InfoNCE) and off (the
// masked-logsumexp composition): same loss and gradients for ERICA's entity and
// relation discrimination (one positive, lists of different lengths) and UNIMO's
// CMCL (several positives, padding, a learnable scale), in float32.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/objectives/cmcl.h"
#include "cotrain/objectives/entity_discrimination.h"
#include "cotrain/objectives/relation_discrimination.h"

using namespace cotrain;
using namespace cotrain::objectives;

namespace {

double rel(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-30);
}

// loss and d loss / d inputs with the fast paths on or off.
template <typename Loss>
std::vector<at::Tensor> run(bool fast, const std::vector<at::Tensor>& inputs, Loss&& loss) {
  nn::FastPathsGuard guard(fast);
  std::vector<at::Tensor> leaves;
  for (const auto& t : inputs) leaves.push_back(t.clone().requires_grad_(true));
  at::Tensor l = loss(leaves);
  l.backward();
  std::vector<at::Tensor> out{l.detach()};
  for (const auto& t : leaves) out.push_back(t.grad());
  return out;
}

void expect_same(const std::vector<at::Tensor>& on, const std::vector<at::Tensor>& off) {
  ASSERT_EQ(on.size(), off.size());
  for (size_t i = 0; i < on.size(); ++i) EXPECT_LT(rel(on[i], off[i]), 2e-6) << "output " << i;
}

}  // namespace

TEST(ContrastiveFastPath, EntityAndRelationDiscriminationMatchTheComposition) {
  at::manual_seed(90);
  at::Tensor entities = at::randn({12, 24});
  std::vector<EdExample> ed = {{0, 3, {1, 3, 5, 7}}, {2, 4, {4}}, {6, 11, {8, 9, 10, 11, 1, 3}}};
  auto ed_loss = [&](const std::vector<at::Tensor>& v) { return entity_discrimination_loss(v[0], ed, 0.05); };
  expect_same(run(true, {entities}, ed_loss), run(false, {entities}, ed_loss));

  at::Tensor relations = at::randn({9, 32});
  std::vector<RdAnchor> rd = {{0, 1, {2, 3, 4}}, {5, 6, {}}, {7, 8, {0, 1, 2, 3, 4, 5, 6}}};
  auto rd_loss = [&](const std::vector<at::Tensor>& v) { return relation_discrimination_loss(v[0], rd, 0.1); };
  expect_same(run(true, {relations}, rd_loss), run(false, {relations}, rd_loss));
}

TEST(ContrastiveFastPath, CmclMatchesTheCompositionWithALearnedScale) {
  at::manual_seed(91);
  at::Tensor images = at::randn({5, 16}), texts = at::randn({7, 16}), scale = at::full({}, 20.0);
  // Anchor a = pair (a, a); positives and negatives of mixed count, padding at the end.
  CmclCells cells;
  cells.image = at::tensor({0, 0, 0, 1, 0, 0,  1, 1, 2, 1, 1, 3,  2, 2, 2, 2, 2, 2,  3, 3, 4, 3, 0, 0}, at::kLong).view({4, 6});
  cells.text = at::tensor({0, 5, 1, 0, 0, 0,  1, 6, 1, 2, 3, 1,  2, 0, 1, 3, 4, 5,  3, 6, 3, 0, 0, 0}, at::kLong).view({4, 6});
  cells.kind = at::tensor({1, 1, 2, 2, 0, 0,  1, 1, 1, 2, 2, 2,  1, 2, 2, 2, 2, 2,  1, 1, 2, 2, 0, 0}, at::kLong).view({4, 6});
  for (bool cosine : {true, false}) {
    auto loss = [&](const std::vector<at::Tensor>& v) { return cmcl_loss(v[0], v[1], cells, v[2], cosine); };
    auto on = run(true, {images, texts, scale / (cosine ? 1.0 : 20.0)}, loss);
    auto off = run(false, {images, texts, scale / (cosine ? 1.0 : 20.0)}, loss);
    expect_same(on, off);
    EXPECT_GT(on[3].abs().item<double>(), 0.0);  // the scale does get a gradient
  }
}
