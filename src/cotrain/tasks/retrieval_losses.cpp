#include "cotrain/tasks/retrieval_losses.h"

#include <ATen/ATen.h>

#include "cotrain/core/error.h"

namespace cotrain::tasks {

at::Tensor retrieval_softmax_loss(const at::Tensor& scores) {
  if (scores.dim() != 2 || scores.size(1) < 2) fail("retrieval loss: scores must be [B, K] with K >= 2");
  return -at::log_softmax(scores, 1).select(1, 0).mean();
}

at::Tensor retrieval_circle_loss(const at::Tensor& scores, double margin, double gamma) {
  if (scores.dim() != 2 || scores.size(1) < 2) fail("retrieval loss: scores must be [B, K] with K >= 2");
  const at::Tensor s = at::sigmoid(scores);
  const at::Tensor sp = s.select(1, 0), sn = s.narrow(1, 1, s.size(1) - 1);
  const at::Tensor ap = at::clamp_min(1.0 + margin - sp.detach(), 0.0);
  const at::Tensor an = at::clamp_min(sn.detach() + margin, 0.0);
  const at::Tensor logit_p = -gamma * ap * (sp - (1.0 - margin));  // [B]
  const at::Tensor logit_n = gamma * an * (sn - margin);           // [B, K-1]
  // log(1 + sum_n exp(l_n + l_p)) = softplus(logsumexp_n(l_n) + l_p)
  return at::softplus(at::logsumexp(logit_n, 1) + logit_p).mean();
}

}  // namespace cotrain::tasks
