// UNIMO's sequence-to-sequence attention (unimo.md, "Language learning"; UniLM style):
// a sequence is a source (the image's [IMG] v1..vN, and/or source text) followed by
// a target; source positions attend to the whole source (bidirectional), a target
// position attends to the whole source and to the target positions up to itself
// (causal). The target is predicted GPT-style: the hidden state at a position gives
// the next token (the last source position predicts the first target token).
//
// These are free functions over UnimoModelImpl's public modules, so that the model's
// own forward (full attention) stays as it is.
#pragma once
#include <ATen/core/Tensor.h>

#include "cotrain/models/unimo/unimo_model.h"

namespace cotrain::models {

// 0/1 attention [B, L, L] (query row, key column) from the key mask [B, L] (1: real)
// and the target marking [B, L] (1: target position):
//   attend(i, j) = key_mask[j] && (!target[j] || (target[i] && j <= i)).
// Works for any placement of the target (contiguous after the source or in place).
at::Tensor seq2seq_attention(const at::Tensor& key_mask, const at::Tensor& target);

// The visual input rows `[IMG] v1..vN` -> [B, 1+N, H] and their key mask [B, 1+N]
// (the same computation as UnimoModelImpl::forward).
struct ImageEmbedded {
  at::Tensor embeddings, key_mask;
};
ImageEmbedded embed_image(UnimoModelImpl& model, const at::Tensor& features, const at::Tensor& boxes,
                          const at::Tensor& region_mask);

// Text position ids: real tokens are numbered in order (0.. for BERT, pad+1.. for
// RoBERTa), padding gets 0 / pad. Equals default_position_ids for rows whose padding
// is at the end; also right for padding in the middle (decoding after a padded source).
at::Tensor text_positions(const ModelConfig& config, const at::Tensor& text_mask);

// Encodes image (optional) + text with the seq2seq attention; text_target [B, M]
// marks the target tokens (image positions are always source). Returns the same
// fields as UnimoModelImpl::forward (h_img / h_cls included).
UnimoEncoded unimo_seq2seq_forward(UnimoModelImpl& model, const UnimoInputs& inputs, const at::Tensor& text_target);

}  // namespace cotrain::models
