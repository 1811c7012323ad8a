// MLM masking of contiguous spans (UNIMO / SpanBERT style), the alternative to
// data::mask_tokens' independent tokens. Convention (documented because the paper
// leaves it open):
//   budget  = max(1, round(mask_prob * number of maskable positions)) when any is maskable;
//   repeat until the budget is spent (or 100 * budget attempts):
//     length = min(1 + Geometric(p) failures, max_span)   (support 1, 2, ...; mean ~1/p)
//     start  = a uniformly drawn maskable position not yet chosen;
//     the span covers start, start+1, ... while positions are maskable and unchosen,
//     at most `length` of them and at most the budget left;
//   each span as a whole becomes [MASK] (80%), random tokens (10%) or stays (10%).
// Spans are over tokens (subwords), not whole words. Labels are the original ids at
// chosen positions and -100 elsewhere, as data::mask_tokens.
#pragma once
#include <cstdint>
#include <vector>

#include "cotrain/core/rng.h"

namespace cotrain::objectives {

struct SpanMaskingOptions {
  double mask_prob = 0.15;
  double p = 0.2;          // Geometric parameter of the span length
  int64_t max_span = 10;
  int64_t mask_id = 0;
  int64_t vocab_size = 0;  // random replacements are drawn from [0, vocab_size)
};

std::vector<int64_t> mask_spans(std::vector<int64_t>& ids, const std::vector<bool>& maskable,
                                const SpanMaskingOptions& options, Rng& rng);

}  // namespace cotrain::objectives
