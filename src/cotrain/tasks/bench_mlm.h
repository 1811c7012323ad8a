// `cotrain bench --task mlm`: training steps of BertForMaskedLM (the model `cotrain
// pretrain --task mlm` trains) with AdamW and gradient clipping, on synthetic
// batches of exactly the requested shape. The PyTorch twin is bench/torch_mlm.py.
#pragma once
#include "cotrain/tasks/bench_common.h"

namespace cotrain::tasks {

// Matrix-product FLOPs of one training step (forward x 3: the backward pass does
// two products for each forward one). Elementwise work is not counted. M, the
// number of predicted positions, is round(mask_prob * batch * seq).
double mlm_step_flops(const BenchOptions& options);
int64_t mlm_predicted_positions(const BenchOptions& options);

BenchResult bench_mlm(const BenchOptions& options);

}  // namespace cotrain::tasks
