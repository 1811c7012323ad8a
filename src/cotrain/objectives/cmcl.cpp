#include "cotrain/objectives/cmcl.h"

#include <ATen/ATen.h>

#include <limits>

#include "cotrain/core/error.h"
#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/info_nce.h"

namespace cotrain::objectives {

namespace {
// d(image_i, text_j) before the scale.
at::Tensor unscaled_similarity(const at::Tensor& image_emb, const at::Tensor& text_emb, bool cosine) {
  at::Tensor a = image_emb, b = text_emb;
  if (cosine) {
    // eps as torch.nn.functional.normalize: an all-zero embedding gives similarity 0.
    a = a / a.norm(2, -1, true).clamp_min(1e-12);
    b = b / b.norm(2, -1, true).clamp_min(1e-12);
  }
  return at::matmul(a, b.t());
}
}  // namespace

at::Tensor cmcl_similarity(const at::Tensor& image_emb, const at::Tensor& text_emb, const at::Tensor& scale,
                           bool cosine) {
  return unscaled_similarity(image_emb, text_emb, cosine) * scale;
}

at::Tensor cmcl_loss(const at::Tensor& image_emb, const at::Tensor& text_emb, const CmclCells& cells,
                     const at::Tensor& scale, bool cosine) {
  if (cells.image.dim() != 2 || !cells.image.sizes().equals(cells.text.sizes()) ||
      !cells.image.sizes().equals(cells.kind.sizes()))
    fail("cmcl: cell index matrices must share one [A, K] shape");
  if (cells.image.size(0) == 0) return (image_emb.sum() + text_emb.sum()) * 0.0;
  const int64_t I = image_emb.size(0), J = text_emb.size(0);
  at::Tensor valid = cells.kind.ne(kCmclPad);
  if (valid.logical_and(cells.image.lt(0).logical_or(cells.image.ge(I)).logical_or(cells.text.lt(0))
                            .logical_or(cells.text.ge(J))).any().item<bool>())
    fail("cmcl: a cell points outside the {} images / {} texts", I, J);
  at::Tensor positive = cells.kind.eq(kCmclPositive);
  if (positive.sum(1).eq(0).any().item<bool>()) fail("cmcl: every anchor needs at least one positive cell");

  at::Tensor flat = cells.image.clamp(0, I - 1) * J + cells.text.clamp(0, J - 1);  // pads point anywhere valid
  if (nn::fast_paths_enabled() && image_emb.device().type() == at::kCPU &&
      (image_emb.scalar_type() == at::kFloat || image_emb.scalar_type() == at::kDouble)) {
    // The scale is applied inside the fused function (and its gradient taken there),
    // to the gathered cells only; the kinds are CmclCellKind's values.
    at::Tensor raw = unscaled_similarity(image_emb, text_emb, cosine);
    at::Tensor logits = raw.reshape({-1}).index_select(0, flat.reshape({-1})).view(cells.kind.sizes());
    return nn::kernels::fused_info_nce(logits, cells.kind, scale);
  }
  at::Tensor sim = cmcl_similarity(image_emb, text_emb, scale, cosine);  // [I, J]
  at::Tensor logits = sim.reshape({-1}).index_select(0, flat.reshape({-1})).view(cells.kind.sizes());
  const double lowest = -std::numeric_limits<double>::infinity();
  at::Tensor log_den = at::logsumexp(logits.masked_fill(valid.logical_not(), lowest), 1);
  at::Tensor log_num = at::logsumexp(logits.masked_fill(positive.logical_not(), lowest), 1);
  return (log_den - log_num).mean();
}

}  // namespace cotrain::objectives
