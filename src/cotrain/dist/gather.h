// All-gather with gradient, for contrastive losses whose negatives span the global
// batch (spec style.md, "OpenCLIP"): every rank gets all ranks' rows; each rank then
// computes the loss of its own rows against all columns. The backward pass sums
// every rank's gradient with respect to the gathered rows and keeps this rank's
// slice, so that the per-rank gradients add up to the one-process gradient.
#pragma once
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace cotrain::dist {

struct GatheredRows {
  at::Tensor all;               // [sum of counts, ...], rank 0's rows first
  int64_t offset = 0;           // where this rank's rows start in `all`
  std::vector<int64_t> counts;  // rows per rank
};

// `local` [n, ...] with n free to differ between ranks (rows are padded for the
// transfer). With world size 1, `all` is `local` itself.
GatheredRows all_gather_rows(const at::Tensor& local);

}  // namespace cotrain::dist
