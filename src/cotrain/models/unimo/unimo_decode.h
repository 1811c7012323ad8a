// Generation with UNIMO (unimo.md, "Downstream": captioning with beam 5, length
// penalty 0.6): the source (image regions and/or a source text) is encoded once with
// bidirectional attention; target tokens are then fed one at a time, each attending
// to the whole source and the target so far (the seq2seq attention of
// unimo_seq2seq.h), and the MLM head's distribution at the newest position gives the
// next token.
//
// A key/value cache keeps every layer's keys and values of the positions already
// encoded, so a step costs one position's work against the cache (linear per token)
// instead of re-encoding the sequence. `use_cache = false` re-encodes the whole
// sequence with the model's own encoder every step (the reference the cache is tested
// against).
//
// Beam search: each row keeps beam_size hypotheses; per step the 2 * beam_size best
// extensions (cumulative log-probabilities) are considered in order; an extension by
// the end token among the first beam_size finishes a hypothesis, scored
// log p / ((5 + length) / 6)^length_penalty (GNMT; length counts the end token); the
// others continue until beam_size continue. A row is done once it holds beam_size
// finished hypotheses; at max_length the live ones finish as they are. With beam 1
// this is exactly greedy decoding. no_repeat_ngram n bans any token that would
// repeat an n-gram of the generated tokens.
#pragma once
#include <vector>

#include <ATen/core/Tensor.h>

#include "cotrain/models/unimo/unimo_model.h"

namespace cotrain::models {

struct DecodeSource {
  at::Tensor features, boxes, region_mask;  // image source [B, N, D], [B, N, 5], [B, N] (optional)
  at::Tensor source_ids, source_mask;       // text source [B, S] e.g. [CLS] .. [SEP] (optional)
};

struct DecodeOptions {
  int64_t beam_size = 1;
  double length_penalty = 0.6;
  int64_t max_length = 20;     // generated tokens at most, the end token included
  int64_t no_repeat_ngram = 0; // 0: off
  int64_t eos = 0;             // the end token (the tokenizer's [SEP] / </s>)
  int64_t bos = -1;            // fed first when >= 0 ([CLS] for captioning); else the last
                               // source position predicts the first token
  bool use_cache = true;
};

struct Decoded {
  std::vector<int64_t> tokens;  // generated, without bos and eos
  double score = 0;             // sum of log-probabilities (greedy) / length-normalised (beam)
};

// Both run without gradients and expect the model in eval mode.
std::vector<Decoded> greedy_decode(UnimoModelImpl& model, const DecodeSource& source, const DecodeOptions& options);
std::vector<Decoded> beam_decode(UnimoModelImpl& model, const DecodeSource& source, const DecodeOptions& options);
// beam_size 1: greedy_decode, else beam_decode.
std::vector<Decoded> decode(UnimoModelImpl& model, const DecodeSource& source, const DecodeOptions& options);

}  // namespace cotrain::models
