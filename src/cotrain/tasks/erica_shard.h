// ERICA on several processes (README "Several processes and machines"). Every rank
// builds the same global micro-batch (same documents, masks, pairings, negatives)
// and keeps the rows r, r + W, ...: it encodes only those, and reports shares of the
// global losses (train/data_parallel.h):
//   MLM: its masked-token sum over the global masked-token count;
//   ED:  its examples' loss sum over the global example count (ED stays inside a row);
//   RD:  relation representations of its pairs are gathered from all ranks with
//        gradient (dist/gather.h) and put back in global pair order, so each anchor
//        of this rank is contrasted with positives and negatives from the whole
//        global batch, exactly as in one process; loss sum over the global anchor count.
#pragma once
#include <cstdint>

#include "cotrain/core/config.h"
#include "cotrain/models/bert/bert.h"
#include "cotrain/tasks/erica_batch.h"
#include "cotrain/tasks/erica_losses.h"

namespace cotrain::tasks {

// The rows of `global` that rank `rank` of `world` keeps, with entity, ED and RD
// indices renumbered to them (anchors left out: the RD loss is computed over the
// gathered pairs). Exposed for tests.
EricaBatch erica_local_batch(const EricaBatch& global, int64_t rank, int64_t world);

// This rank's shares of the losses of `global` (see above). Every rank must call it
// with the same batch (a collective gathers the relation representations).
EricaLosses erica_losses_shared(models::BertForMaskedLM& model, const EricaBatch& global, const EricaConfig& config,
                                int64_t rank, int64_t world);

}  // namespace cotrain::tasks
