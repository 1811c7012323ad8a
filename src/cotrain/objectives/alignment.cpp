#include "cotrain/objectives/alignment.h"

#include <ATen/ATen.h>

namespace cotrain::objectives {

at::Tensor alignment_loss(const at::Tensor& logits, const at::Tensor& labels) {
  return at::cross_entropy_loss(logits, labels.reshape({-1}).to(at::kLong));
}

at::Tensor alignment_score(const at::Tensor& logits) { return at::softmax(logits, -1).select(-1, kAligned); }

}  // namespace cotrain::objectives
