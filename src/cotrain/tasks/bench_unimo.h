// `cotrain bench --task unimo`: training steps of UNIMO's pretraining (unimo.md) on
// synthetic image-text pairs, through the same model (models::UnimoModel) and the same
// loss function (unimo_losses) that `cotrain pretrain --task unimo` uses:
//   - the pairs encoded jointly ([IMG] v1..vR [CLS] w1..wT), with masked language
//     modelling on the caption and masked region modelling (feature regression and
//     KL to the detector's class distribution) on the regions;
//   - CMCL between the images encoded alone and the captions encoded alone, with the
//     in-batch negatives of the task (image a with caption b and image b with
//     caption a, for every other pair b), no rewritten or retrieved texts: those would
//     multiply the text-alone encoder pass by 1 + their count;
//   - the sum of the four losses, AdamW (weight decay 0.01, not on biases, LayerNorm
//     and logit_scale), gradient clipping at 1.0.
// Every example is a pair (no text-only or image-only examples). Regions have 2048-d
// features (bottom-up attention) and 1601-class soft targets; boxes are 5-d.
// The PyTorch twin is bench/torch_unimo.py.
#pragma once
#include "cotrain/tasks/bench_common.h"

namespace cotrain::tasks {

constexpr int64_t kUnimoBenchFeatureDim = 2048;  // bottom-up-attention region features
constexpr int64_t kUnimoBenchClasses = 1601;     // Visual Genome detector classes (cls_prob)

// Predicted caption tokens: round(mask_prob * batch * seq), at least 1.
int64_t unimo_masked_tokens(const BenchOptions& options);
// Masked regions: round(region_mask_prob * batch * regions), at least 1, with the
// spec's rate 0.15 (UnimoConfig's default). An exact count, so that both
// benchmarks do the same work every step; the IoU expansion of the task's masking
// is left out (it depends on real boxes).
int64_t unimo_masked_regions(const BenchOptions& options);

// Matrix-product FLOPs of one training step. Counted, each forward product x 3
// (backward does two products per forward one):
//   - the Transformer over the three sequences (joint 1+R+T, image alone 1+R, text
//     alone T): Q/K/V, attention output, FFN in/out, scores and weighted sum;
//   - the MLM head at the masked tokens (transform H x H, decoder H x V);
//   - the region head at the masked regions (transform H x H, regression H x D,
//     classifier H x C);
//   - the CMCL similarity matrix (B x B x H).
// The visual embedding (features D -> H and boxes 5 -> H, for the joint and the
// image-alone pass) counts x 2: its input needs no gradient. Not counted: embedding
// lookups, elementwise work, and the retrieval score head that the task computes as
// a diagnostic outside the loss.
double unimo_step_flops(const BenchOptions& options);

BenchResult bench_unimo(const BenchOptions& options);

}  // namespace cotrain::tasks
