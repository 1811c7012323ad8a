// Cross-modal contrastive learning (UNIMO's CMCL, unimo.md): multi-positive InfoNCE.
//
// Images and texts are encoded separately; S[i, j] = scale * d(image_i, text_j) with
// d the cosine similarity (or the dot product) and scale = 1/tau. Each anchor a (an
// image-text pair of the batch) lists the cells (i, j) of S that matter to it:
// positives (the pair itself, its paraphrases X+, retrieved images X_I and texts X_T)
// and negatives (rewritten captions and TF-IDF captions X-, in-batch negatives):
//
//   loss_a = -log( sum_{positive cells} exp S / sum_{positive and negative cells} exp S )
//   loss   = mean over anchors.
//
// Cells are given as [A, K] index matrices padded with kind 0, so any number of
// positives and negatives per anchor fits one tensor op.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::objectives {

enum CmclCellKind : int64_t { kCmclPad = 0, kCmclPositive = 1, kCmclNegative = 2 };

struct CmclCells {
  at::Tensor image;  // [A, K] long: row of the image embeddings
  at::Tensor text;   // [A, K] long: row of the text embeddings
  at::Tensor kind;   // [A, K] long: CmclCellKind
};

// image_emb [I, H], text_emb [J, H]; scale a scalar tensor (1/tau, may require grad).
// Every anchor needs at least one positive cell (checked).
at::Tensor cmcl_loss(const at::Tensor& image_emb, const at::Tensor& text_emb, const CmclCells& cells,
                     const at::Tensor& scale, bool cosine = true);

// The similarity matrix scale * d(image_i, text_j) [I, J], as the loss sees it.
at::Tensor cmcl_similarity(const at::Tensor& image_emb, const at::Tensor& text_emb, const at::Tensor& scale,
                           bool cosine = true);

}  // namespace cotrain::objectives
