// UNIMO's objectives on one micro-batch (unimo.md):
//   mlm       cross-entropy at the labelled tokens of text-only inputs and of pair
//             captions (conditioned on the image), one mean over all of them;
//   mrm_reg   L2 regression of the original features at the masked regions of
//             image-only inputs and of pairs (conditioned on the text);
//   mrm_cls   KL to the class distribution there (when the batch has class targets);
//   cmcl      multi-positive InfoNCE between h[IMG] of images encoded alone and
//             h[CLS] of texts encoded alone;
//   total     the weighted sum (weights 1: the paper's unweighted sum).
// Only the objectives the batch has inputs for (and the config enables) appear.
#pragma once
#include <map>
#include <string>

#include <ATen/core/Tensor.h>

#include "cotrain/core/config.h"
#include "cotrain/models/unimo/unimo_model.h"
#include "cotrain/tasks/unimo_batch.h"

namespace cotrain::tasks {

struct UnimoLossOutput {
  std::map<std::string, at::Tensor> terms;  // the losses above (scalars, with grad)
  // Diagnostics the twin also computes: the hidden states of the pair forward
  // [B, 1+N+M, H] and the pairs' "mul" fusion score [B] (retrieval head).
  at::Tensor pair_hidden, pair_score;
  int64_t tokens = 0;  // real tokens + regions encoded
};

UnimoLossOutput unimo_losses(models::UnimoModelImpl& model, const UnimoBatch& batch, const UnimoConfig& config);

}  // namespace cotrain::tasks
