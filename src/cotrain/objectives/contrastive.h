// InfoNCE over explicit index lists, shared by ERICA's entity and relation
// discrimination: each query has one positive key and its own list of negative keys
// (lists differ in length), similarity is cosine divided by a temperature.
#pragma once
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace cotrain::objectives {

// Rows scaled to unit L2 norm (a zero row stays zero instead of becoming NaN).
at::Tensor l2_normalize(const at::Tensor& x);

struct ContrastiveItem {
  int64_t query = 0;               // row of `queries`
  int64_t positive = 0;            // row of `keys`
  std::vector<int64_t> negatives;  // rows of `keys`; may be empty (the loss is then 0)
};

// Mean over items of -log( e^{s+/tau} / (e^{s+/tau} + sum_neg e^{s-/tau}) ) with
// s = cos(query, key). The positive is counted exactly once in the denominator.
// queries [Q, D], keys [K, D]; an empty item list gives a zero that keeps the graph.
at::Tensor info_nce(const at::Tensor& queries, const at::Tensor& keys, const std::vector<ContrastiveItem>& items,
                    double temperature);

}  // namespace cotrain::objectives
