// Masked region modelling losses (unimo.md), at the M hidden regions:
//   regression:      mean over the M x D elements of (prediction - original feature)^2
//                    (UNITER's MRFR convention: an element-wise MSE);
//   classification:  mean over the M regions of KL(target || softmax(logits)) =
//                    sum_c t_c (log t_c - log p_c), with 0 log 0 = 0; the targets are
//                    the detector's cls_prob or the patch codebook's soft assignments.
// With M = 0 both are an exact 0 that still depends on the inputs (backward works).
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::objectives {

at::Tensor mrm_regression_loss(const at::Tensor& predicted, const at::Tensor& target);   // [M, D] each
at::Tensor mrm_kl_loss(const at::Tensor& logits, const at::Tensor& target_probs);        // [M, C] each

}  // namespace cotrain::objectives
