// BERT's masking for masked language modelling: each maskable position is chosen
// with probability p; a chosen token becomes [MASK] (80%), a random token (10%) or
// stays (10%), and its original id becomes the label. Unchosen positions get label
// -100 (ignored by the loss).
#pragma once
#include <cstdint>
#include <vector>

#include "cotrain/core/rng.h"

namespace cotrain::data {

struct MaskingOptions {
  double mask_prob = 0.15;
  int64_t mask_id = 0;
  int64_t vocab_size = 0;
  // At least one position per sequence is predicted when any is maskable, so that
  // short sequences always contribute to the loss.
  bool at_least_one = true;
};

constexpr int64_t kIgnoreLabel = -100;

// Masks `ids` in place where `maskable[i]` is true; returns the labels.
std::vector<int64_t> mask_tokens(std::vector<int64_t>& ids, const std::vector<bool>& maskable,
                                 const MaskingOptions& options, Rng& rng);

}  // namespace cotrain::data
