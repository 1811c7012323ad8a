#include "cotrain/objectives/masked_region_kl.h"

#include <ATen/ATen.h>

namespace cotrain::objectives {

at::Tensor masked_region_kl_loss(const at::Tensor& scores, const at::Tensor& targets, const at::Tensor& masked) {
  at::Tensor weight = masked.to(scores.scalar_type());
  const double count = weight.sum().item<double>();
  if (count == 0) return scores.sum() * 0.0;
  at::Tensor target = targets.to(scores.scalar_type());
  // sum_c t * (log t - log p); xlogy makes 0 * log 0 = 0.
  at::Tensor per_region = (at::xlogy(target, target) - target * at::log_softmax(scores, -1)).sum(-1);
  return (per_region * weight).sum() / count;
}

at::Tensor masked_region_regression_loss(const at::Tensor& predicted, const at::Tensor& features,
                                         const at::Tensor& masked) {
  at::Tensor weight = masked.to(predicted.scalar_type());
  const double count = weight.sum().item<double>();
  if (count == 0) return predicted.sum() * 0.0;
  at::Tensor per_region = (predicted - features.to(predicted.scalar_type())).pow(2).mean(-1);
  return (per_region * weight).sum() / count;
}

}  // namespace cotrain::objectives
