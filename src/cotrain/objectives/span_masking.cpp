#include "cotrain/objectives/span_masking.h"

#include <algorithm>
#include <cmath>

namespace cotrain::objectives {

std::vector<int64_t> mask_spans(std::vector<int64_t>& ids, const std::vector<bool>& maskable,
                                const SpanMaskingOptions& o, Rng& rng) {
  const size_t n = ids.size();
  std::vector<int64_t> labels(n, -100);
  std::vector<size_t> candidates;
  for (size_t i = 0; i < n && i < maskable.size(); ++i)
    if (maskable[i]) candidates.push_back(i);
  if (candidates.empty()) return labels;
  const int64_t budget =
      std::max<int64_t>(1, std::llround(o.mask_prob * static_cast<double>(candidates.size())));
  std::vector<bool> chosen(n, false);
  int64_t used = 0;
  for (int64_t attempt = 0; used < budget && attempt < 100 * budget; ++attempt) {
    const int64_t length = std::min<int64_t>(1 + rng.geometric(o.p), o.max_span);
    const size_t start = candidates[static_cast<size_t>(rng.below(static_cast<int64_t>(candidates.size())))];
    if (chosen[start]) continue;
    std::vector<size_t> span;
    for (size_t i = start; i < n && i < maskable.size() && maskable[i] && !chosen[i] &&
                           static_cast<int64_t>(span.size()) < std::min(length, budget - used);
         ++i)
      span.push_back(i);
    const double action = rng.uniform();
    for (size_t i : span) {
      chosen[i] = true;
      labels[i] = ids[i];
      if (action < 0.8) ids[i] = o.mask_id;
      else if (action < 0.9 && o.vocab_size > 0) ids[i] = rng.below(o.vocab_size);
    }
    used += static_cast<int64_t>(span.size());
  }
  return labels;
}

}  // namespace cotrain::objectives
