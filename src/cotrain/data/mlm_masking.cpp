#include "cotrain/data/mlm_masking.h"

namespace cotrain::data {

std::vector<int64_t> mask_tokens(std::vector<int64_t>& ids, const std::vector<bool>& maskable,
                                 const MaskingOptions& options, Rng& rng) {
  std::vector<int64_t> labels(ids.size(), kIgnoreLabel);
  std::vector<size_t> chosen, candidates;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!maskable[i]) continue;
    candidates.push_back(i);
    if (rng.bernoulli(options.mask_prob)) chosen.push_back(i);
  }
  if (chosen.empty() && options.at_least_one && !candidates.empty())
    chosen.push_back(candidates[static_cast<size_t>(rng.below(static_cast<int64_t>(candidates.size())))]);
  for (size_t i : chosen) {
    labels[i] = ids[i];
    const double r = rng.uniform();
    if (r < 0.8)
      ids[i] = options.mask_id;
    else if (r < 0.9)
      ids[i] = rng.below(options.vocab_size);
    // else: keep the original token
  }
  return labels;
}

}  // namespace cotrain::data
