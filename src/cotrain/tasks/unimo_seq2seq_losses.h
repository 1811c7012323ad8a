// The seq2seq objective on one micro-batch (unimo_seq2seq_batch.h): the text part and
// the pair part (text conditioned on the image) are encoded with the seq2seq
// attention (models/unimo/unimo_seq2seq.h); the hidden states at the labelled
// positions go through the MLM head (decoder tied to the word embeddings) and one
// cross-entropy mean over all of them is "seq2seq" (and "total").
#pragma once
#include <map>
#include <string>

#include <ATen/core/Tensor.h>

#include "cotrain/models/unimo/unimo_model.h"
#include "cotrain/tasks/unimo_seq2seq_batch.h"

namespace cotrain::tasks {

struct Seq2seqLossOutput {
  std::map<std::string, at::Tensor> terms;  // "seq2seq", "total"
  at::Tensor pair_hidden;                   // [B, 1+N+M, H] of the pair forward (diagnostics for the twin)
  int64_t tokens = 0;
};

Seq2seqLossOutput seq2seq_losses(models::UnimoModelImpl& model, const Seq2seqBatch& batch);

}  // namespace cotrain::tasks
