// UNIMO's sequence-to-sequence examples (unimo.md, "Language learning") and their
// batch JSON (`cotrain batch --task unimo-seq2seq`, read by `cotrain loss` and by
// tests/reference/unimo_seq2seq_twin.py).
//
// Text seq2seq: fragments of U[min_fragment, max_fragment] tokens (cut to what the
// budget leaves) are drawn without overlap until target_fraction of the tokens are
// covered; they form the target in their order, the other tokens the source:
//     [CLS] source.. [SEP] t1 .. tk        target marking 0 .. 0 0 1 .. 1
// The hidden state at [SEP] predicts t1, at t_j predicts t_{j+1}, at t_k the end
// token [SEP] (labels hold the next token there, -100 elsewhere).
// Captioning (image as the source): the whole caption is the target,
//     [IMG] v1..vN | [CLS] w1 .. wm          text marking 1 .. 1
// with [CLS] as the start token: [CLS] predicts w1, .., w_m predicts [SEP].
// Pairs in pretraining use the text layout conditioned on the image.
//
// JSON: {"task": "unimo-seq2seq", "examples": n,
//        "text": {input_ids, attention_mask, target, labels},
//        "pair": {input_ids, attention_mask, target, labels, features, boxes, region_mask}}
// (either part may be absent; tensors as in unimo_batch.h).
#pragma once
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "cotrain/core/rng.h"
#include "cotrain/tasks/unimo_batch.h"

namespace cotrain::tasks {

struct FragmentOptions {
  double target_fraction = 0.25;
  int64_t min_fragment = 4, max_fragment = 32;
};

// Which of n tokens are target (true): non-overlapping fragments until
// max(1, round(target_fraction * n)) tokens are covered (n > 0).
std::vector<bool> choose_target_fragments(int64_t n, const FragmentOptions& options, Rng& rng);

struct Seq2seqRow {
  std::vector<int64_t> ids, target, labels;
};
// tokens exclude the specials.
Seq2seqRow text_seq2seq_row(const std::vector<int64_t>& tokens, const std::vector<bool>& is_target, int64_t cls,
                            int64_t sep);
Seq2seqRow caption_row(const std::vector<int64_t>& tokens, int64_t cls, int64_t sep);

struct Seq2seqTextPart {
  at::Tensor input_ids, attention_mask, target, labels;  // [B, M] long
  bool defined() const { return input_ids.defined(); }
};

struct Seq2seqBatch {
  Seq2seqTextPart text;      // text-only seq2seq
  Seq2seqTextPart pair;      // text conditioned on the image (captioning, pair fragments)
  UnimoImagePart pair_image; // features, boxes, region_mask of the pair rows
  int64_t examples = 0;
};

// Pads rows into a part (pad id for input_ids, 0 for masks, -100 for labels).
Seq2seqTextPart make_seq2seq_part(const std::vector<Seq2seqRow>& rows, int64_t pad);

nlohmann::json seq2seq_batch_to_json(const Seq2seqBatch& batch);
// Validates shapes and that labels are -100 or token ids below vocab_size.
Seq2seqBatch seq2seq_batch_from_json(const nlohmann::json& j, int64_t vocab_size);

}  // namespace cotrain::tasks
