// `cotrain bench --task vilbert`: training steps of ViLBERT pretraining (vilbert.md)
// with the model (VilbertForPretraining) and the loss functions (run_vilbert,
// vilbert_losses: MLM + masked-region KL + alignment, weights 1) that `cotrain
// pretrain --task vilbert` uses, on synthetic batches. The PyTorch twin is
// bench/torch_vilbert.py.
//
// How the bench sizes map onto the two streams (as configs/vilbert-tiny.yaml shapes
// a small ViLBERT):
//   text stream:   --layers TRM layers, --hidden, --heads, --ffn, --vocab;
//   image stream:  --layers TRM layers of the same width and heads, with the narrow
//                  feed-forward of the reference (width --hidden, not --ffn);
//   co-attention:  --layers Co-TRMs of width --hidden with --heads heads, one after
//                  each text layer (t_biattention_id 1..L, v_biattention_id 0..L-1:
//                  t0 c0 v0 t1 c1 v1 ...);
//   inputs:        --batch caption-image pairs, --seq tokens (no padding),
//                  --regions regions of 2048-d features plus the IMG token the model
//                  takes first (R + 1 rows), 1601 region classes (the detector's).
#pragma once
#include "cotrain/core/config.h"
#include "cotrain/tasks/bench_common.h"

namespace cotrain::tasks {

// The detector geometry the reference uses (vilbert.md); the bench has no flags for them.
constexpr int64_t kVilbertBenchFeatureDim = 2048;
constexpr int64_t kVilbertBenchClasses = 1601;

// The text and ViLBERT configs the sizes describe (the mapping above).
void vilbert_bench_configs(const BenchOptions& options, ModelConfig& text, VilbertConfig& vilbert);

// Masked text positions: round(mask_prob * batch * seq), at least 1.
int64_t vilbert_predicted_positions(const BenchOptions& options);
// Masked regions: round(0.15 * batch * regions) of the real regions, at least 1.
int64_t vilbert_masked_regions(const BenchOptions& options);

// Matrix-product FLOPs of one training step (forward x 3: backward does two products
// per forward one). Counted: region and location embeddings, every TRM (projections,
// scores, weighted sums, feed-forward), every Co-TRM (both streams' projections, the
// two cross-attentions, output denses, both feed-forwards), the two poolers and the
// alignment head, the MLM head at the masked positions only, and the region head at
// every visual row (the model scores them all). Not counted: embedding lookups,
// elementwise work, softmax, LayerNorm.
double vilbert_step_flops(const BenchOptions& options);

// Refuses sizes the ViLBERT bench cannot run (--regions 0) besides the common checks.
void validate_vilbert_bench_options(const BenchOptions& options);

BenchResult bench_vilbert(const BenchOptions& options);

}  // namespace cotrain::tasks
