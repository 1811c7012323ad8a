// Masked region modelling as ViLBERT trains it (vilbert.md): predict, at each masked
// region, the detector's (or the patch codebook's) class distribution, or (variant)
// regress the region's feature vector. The IMG token is never masked, so it never
// appears in `masked`.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::objectives {

// KL(target || softmax(scores)) summed over classes, averaged over the masked
// regions. scores, targets: [B, R, C] (targets are probabilities; zeros contribute
// nothing); masked: [B, R], 1 where a region was chosen. With no masked region the
// loss is 0 (still connected to `scores`, so backward works).
at::Tensor masked_region_kl_loss(const at::Tensor& scores, const at::Tensor& targets, const at::Tensor& masked);

// Feature regression: squared error averaged over the masked regions' feature
// elements (mean over masked regions of the per-region mean over the F dims).
at::Tensor masked_region_regression_loss(const at::Tensor& predicted, const at::Tensor& features,
                                         const at::Tensor& masked);

}  // namespace cotrain::objectives
