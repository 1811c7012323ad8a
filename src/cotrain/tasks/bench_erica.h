// `cotrain bench --task erica`: training steps of ERICA pretraining (erica.md): one
// BertForMaskedLM pass over ED and RD rows, MLM + entity discrimination + relation
// discrimination summed by the task's own erica_losses(), AdamW with gradient
// clipping. The batches are synthetic documents of exactly the requested shape. The
// PyTorch twin is bench/torch_erica.py.
//
// The synthetic micro-batch (the same in the twin):
//  - --batch rows of exactly --seq tokens, no padding: the first batch/2 are ED rows
//    "[CLS] relation-name(2) head-name(2) [SEP] body [SEP]", the rest RD rows
//    "[CLS] body [SEP]";
//  - every document has --entities entities with kMentionsPerEntity mentions of
//    kMentionTokens tokens each, at random non-overlapping places of the body;
//  - --entities labelled (h, t) pairs per document (distinct, h != t), each with one
//    of kRelationTypes relation ids; every other ordered pair is in its na_triple list;
//  - ED: one labelled triple per ED row; candidates are the row's entities but the
//    head and the other gold tails of (h, r) (as make_ed_row builds them);
//  - RD: relation_instances() (labelled pairs plus up to 32 sampled NA pairs) and
//    pair_relation_instances() (at most 64 negatives per anchor), the task's own code;
//  - MLM: exactly round(mask_prob * maskable) positions per row (at least one), where
//    specials and mention tokens are not maskable. The task draws each maskable
//    position with probability mask_prob; a fixed count keeps the FLOP count exact.
#pragma once
#include "cotrain/core/rng.h"
#include "cotrain/tasks/bench_common.h"
#include "cotrain/tasks/erica_batch.h"

namespace cotrain::tasks {

constexpr int64_t kEricaBenchMentionsPerEntity = 3;
constexpr int64_t kEricaBenchMentionTokens = 2;
constexpr int64_t kEricaBenchPrefixTokens = 4;   // relation name + head name of an ED row
constexpr int64_t kEricaBenchRelationTypes = 16;
constexpr int64_t kEricaBenchSentenceTokens = 25;  // body tokens per sentence (intra/cross flags)

int64_t erica_ed_rows(const BenchOptions& options);  // batch / 2
int64_t erica_rd_rows(const BenchOptions& options);  // the rest
// MLM positions predicted in one ED / RD row.
int64_t erica_masked_per_row(const BenchOptions& options, bool ed_row);

// Matrix-product FLOPs of one training step (forward x 3), as mlm_step_flops: the
// encoder over batch x seq tokens and the MLM head over the predicted positions.
// Not counted: the ED/RD cosine-similarity products (about 2 * anchors * 65 * 2H per
// forward, under 0.1% of the step at the preset), mention pooling (an index_add)
// and elementwise work.
double erica_step_flops(const BenchOptions& options);

// Refuses sizes that cannot make the synthetic batch (names the option).
void validate_erica_bench_options(const BenchOptions& options);

// One synthetic micro-batch as described above (options already validated).
EricaBatch erica_bench_batch(const BenchOptions& options, Rng& rng);

BenchResult bench_erica(const BenchOptions& options);

}  // namespace cotrain::tasks
