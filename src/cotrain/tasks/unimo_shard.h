// UNIMO on several processes (README "Several processes and machines"). Every rank
// builds the same global micro-batch (same pairs, masks, paraphrases, rewrites,
// retrieved positives, cells) and keeps rows r, r + W, ... of the text-only,
// image-only and pair parts; it reports shares of the global losses
// (train/data_parallel.h):
//   mlm, mrm_reg, mrm_cls: its mean times its masked tokens / regions over the
//        global count (one count over text-only and pair rows, as in one process);
//   cmcl: each rank encodes CMCL images i and texts j with i % W == r (j % W == r),
//        the features of all ranks are gathered with gradient in one
//        dist::all_gather_rows and put back in global order, and the rank scores its
//        own anchors (a % W == r) over the global batch's cells; the mean over them
//        times its anchors over the global anchor count. The learnable scale enters
//        every rank's share, so its gradient summed over ranks is the one-process one.
#pragma once
#include <cstdint>

#include "cotrain/core/config.h"
#include "cotrain/models/unimo/unimo_model.h"
#include "cotrain/tasks/unimo_batch.h"
#include "cotrain/tasks/unimo_losses.h"

namespace cotrain::tasks {

// Rows rank, rank + world, ... of the text-only, image-only and pair parts of
// `global` (a part with no row for this rank is left undefined); the CMCL parts are
// left out (unimo_losses_shared computes CMCL over the gathered features).
UnimoBatch unimo_local_batch(const UnimoBatch& global, int64_t rank, int64_t world);

// This rank's shares of unimo_losses(global) (see above); "logit_scale" is divided
// by the world size so that its sum over ranks (the trainer's log) is the value.
// Every rank must call it with the same batch (a collective gathers the CMCL features).
UnimoLossOutput unimo_losses_shared(models::UnimoModelImpl& model, const UnimoBatch& global,
                                    const UnimoConfig& config, int64_t rank, int64_t world);

}  // namespace cotrain::tasks
