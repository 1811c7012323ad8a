// ViLBERT micro-batches: captions (tokenised, MLM-masked, swapped for a random one
// with probability swap_prob) paired with region sets (IMG token first, 15% of real
// regions chosen for masked region modelling: 90% zeroed, 10% kept), and the three
// losses of vilbert.md computed on them.
#pragma once
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cotrain/core/config.h"
#include "cotrain/core/rng.h"
#include "cotrain/data/shards.h"
#include "cotrain/models/vilbert/vilbert.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::tasks {

struct VilbertBatch {
  at::Tensor input_ids, token_type_ids, attention_mask, mlm_labels;  // [B, T]
  at::Tensor features, locations, image_mask;                        // [B, R, F], [B, R, 5], [B, R] (R = regions + IMG)
  at::Tensor region_masked;     // [B, R] 1 at the regions chosen for prediction (never the IMG token)
  at::Tensor region_targets;    // [B, R, C] class distributions (kl), or the unmasked features (regression)
  at::Tensor alignment_labels;  // [B] objectives::kAligned / kSwapped
};

// One image's regions as the visual stream takes them: at most `max_regions` boxes,
// preceded by the IMG token (mean of those boxes' features, location [0,0,1,1,1]).
struct ImageInput {
  int64_t count = 0;                              // rows including the IMG token
  std::vector<float> features, locations;         // count x F, count x 5
  std::vector<float> targets;                     // count x C (kl) or count x F (regression)
  std::vector<int64_t> masked;                    // count
};

// Builds one image's rows and applies region masking (mask_prob per real region;
// a chosen region is zeroed with probability 0.9). Targets are the class
// probabilities (kl; an Error naming the image when it has none) or the features
// before masking (regression). The IMG mean uses the features before masking.
ImageInput make_image_input(const data::RegionsView& regions, const VilbertConfig& config, Rng& rng);

struct CaptionInput {
  std::vector<int64_t> token_ids;  // caption WordPieces without specials
  int64_t alignment = 0;           // objectives::kAligned or kSwapped
};

// Pads captions ([CLS] text [SEP], MLM-masked at mask_prob) and images into one batch.
VilbertBatch collate_vilbert_batch(const std::vector<CaptionInput>& captions, const std::vector<ImageInput>& images,
                                   const text::Tokenizer& tokenizer, double mask_prob, const VilbertConfig& config,
                                   Rng& rng);

struct VilbertLosses {
  at::Tensor mlm, region, alignment, total;  // scalars; total = weighted sum
};

models::VilbertForPretrainingImpl::Output run_vilbert(models::VilbertForPretrainingImpl& model,
                                                      const VilbertBatch& batch);
VilbertLosses vilbert_losses(const models::VilbertForPretrainingImpl::Output& out, const VilbertBatch& batch,
                             const VilbertConfig& config);

}  // namespace cotrain::tasks
