#include "cotrain/objectives/masked_region.h"

#include <ATen/ATen.h>

namespace cotrain::objectives {

at::Tensor mrm_regression_loss(const at::Tensor& predicted, const at::Tensor& target) {
  if (predicted.size(0) == 0) return predicted.sum() * 0.0;
  return (predicted - target.to(predicted.scalar_type())).pow(2).mean();
}

at::Tensor mrm_kl_loss(const at::Tensor& logits, const at::Tensor& target_probs) {
  if (logits.size(0) == 0) return logits.sum() * 0.0;
  at::Tensor t = target_probs.to(logits.scalar_type());
  at::Tensor log_p = at::log_softmax(logits, -1);
  return (at::xlogy(t, t) - t * log_p).sum(-1).mean();
}

}  // namespace cotrain::objectives
