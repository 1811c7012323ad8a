// The ERICA losses of a micro-batch (erica.md): one encoder pass over the ED and RD
// rows, MLM on the masked positions, entity representations by mean pooling, and
// the ED and RD contrastive losses over them.
#pragma once
#include <vector>

#include <ATen/core/Tensor.h>

#include "cotrain/core/config.h"
#include "cotrain/models/bert/bert.h"
#include "cotrain/tasks/erica_batch.h"

namespace cotrain::tasks {

struct EricaLosses {
  at::Tensor mlm, ed, rd;  // scalars
  at::Tensor total;        // ed_weight * ed + rd_weight * rd + mlm_weight * mlm
  int64_t tokens = 0;      // real (unpadded) tokens in the micro-batch
  at::Tensor entities;     // [E, H] pooled entity representations (data-parallel RD gathers from them)
};

// Entity representations [E, H]: for each entity the mean over its mentions of the
// mean of the mention's token states (erica.md). hidden: [B, T, H].
at::Tensor pool_entities(const at::Tensor& hidden, const std::vector<EricaEntity>& entities);

// Runs `model` (in whatever train/eval mode it is) on the batch. Token ids and MLM
// labels outside the model's vocabulary are a cotrain::Error.
EricaLosses erica_losses(models::BertForMaskedLM& model, const EricaBatch& batch, const EricaConfig& config);

}  // namespace cotrain::tasks
