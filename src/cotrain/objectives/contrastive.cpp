#include "cotrain/objectives/contrastive.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>

#include "cotrain/core/error.h"
#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/info_nce.h"

namespace cotrain::objectives {

at::Tensor l2_normalize(const at::Tensor& x) { return x / x.norm(2, {-1}, /*keepdim=*/true).clamp_min(1e-12); }

at::Tensor info_nce(const at::Tensor& queries, const at::Tensor& keys, const std::vector<ContrastiveItem>& items,
                    double temperature) {
  if (temperature <= 0) fail("contrastive loss: temperature must be positive, got {}", temperature);
  if (items.empty()) return (queries.sum() + keys.sum()) * 0.0;
  const int64_t Q = queries.size(0), K = keys.size(0);
  size_t width = 1;
  for (const auto& item : items) width = std::max(width, item.negatives.size() + 1);
  // Column 0 holds the positive, the rest the negatives; unused slots are masked to
  // -inf so that lists of any length share one [N, width] logsumexp.
  const int64_t N = static_cast<int64_t>(items.size()), W = static_cast<int64_t>(width);
  std::vector<int64_t> query_rows(static_cast<size_t>(N)), key_index(static_cast<size_t>(N * W), 0);
  std::vector<uint8_t> used(static_cast<size_t>(N * W), 0);
  for (int64_t i = 0; i < N; ++i) {
    const auto& item = items[static_cast<size_t>(i)];
    auto check = [&](int64_t row, int64_t limit, const char* what) {
      if (row < 0 || row >= limit) fail("contrastive loss: item {}: {} index {} out of range [0, {})", i, what, row, limit);
      return row;
    };
    query_rows[static_cast<size_t>(i)] = check(item.query, Q, "query");
    key_index[static_cast<size_t>(i * W)] = check(item.positive, K, "positive");
    used[static_cast<size_t>(i * W)] = 1;
    for (size_t n = 0; n < item.negatives.size(); ++n) {
      key_index[static_cast<size_t>(i * W) + 1 + n] = check(item.negatives[n], K, "negative");
      used[static_cast<size_t>(i * W) + 1 + n] = 1;
    }
  }
  const auto device = queries.device();
  auto long_tensor = [&](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong).to(device); };
  at::Tensor q = l2_normalize(queries).index_select(0, long_tensor(query_rows));  // [N, D]
  at::Tensor k = l2_normalize(keys).index_select(0, long_tensor(key_index)).view({N, W, -1});  // [N, W, D]
  at::Tensor logits = at::bmm(k, q.unsqueeze(2)).squeeze(2) / temperature;  // [N, W]
  if (nn::fast_paths_enabled() && nn::kernels::fused_info_nce_supports(logits)) {
    // Column 0 the positive, used columns negatives, the rest padding: one pass.
    std::vector<int64_t> kinds(used.size());
    for (size_t c = 0; c < used.size(); ++c) kinds[c] = c % static_cast<size_t>(W) == 0 ? 1 : used[c] ? 2 : 0;
    return nn::kernels::fused_info_nce(logits, at::tensor(kinds, at::kLong).view({N, W}), {});
  }
  at::Tensor mask = at::tensor(std::vector<int64_t>(used.begin(), used.end()), at::kLong).to(device).view({N, W}).eq(0);
  logits = logits.masked_fill(mask, -std::numeric_limits<double>::infinity());
  at::Tensor per_item = at::logsumexp(logits, {1}) - logits.select(1, 0);
  return per_item.mean();
}

}  // namespace cotrain::objectives
