#include "cotrain/tasks/vilbert_ft_losses.h"

#include <ATen/ATen.h>

#include "cotrain/core/error.h"

namespace cotrain::tasks {

at::Tensor retrieval_loss(const at::Tensor& scores) {
  if (scores.dim() != 1 || scores.size(0) % kRetrievalOptions != 0 || scores.size(0) == 0)
    fail("retrieval loss: {} scores are not a positive multiple of {}", scores.numel(), kRetrievalOptions);
  at::Tensor grouped = scores.view({-1, kRetrievalOptions});
  at::Tensor target = at::zeros({grouped.size(0)}, at::kLong);
  return at::cross_entropy_loss(grouped, target);
}

at::Tensor answer_bce_loss(const at::Tensor& logits, const at::Tensor& soft_scores) {
  at::Tensor per = at::binary_cross_entropy_with_logits(logits, soft_scores.to(logits.scalar_type()), {}, {},
                                                        at::Reduction::None);
  return per.sum() / static_cast<double>(logits.size(0));
}

at::Tensor region_bce_loss(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& weights) {
  at::Tensor w = weights.to(logits.scalar_type());
  at::Tensor per = at::binary_cross_entropy_with_logits(logits, targets.to(logits.scalar_type()), {}, {},
                                                        at::Reduction::None);
  return (per * w).sum() / w.sum().clamp_min(1.0);
}

double answer_soft_score_sum(const at::Tensor& logits, const at::Tensor& soft_scores) {
  at::Tensor best = logits.argmax(1, true);
  return soft_scores.to(at::kDouble).gather(1, best).sum().item<double>();
}

}  // namespace cotrain::tasks
