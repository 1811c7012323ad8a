// Column sums over row blocks that do not depend on the thread count: rows are cut
// into fixed blocks, each block sums into its own slice, and the slices are added
// in block order. Results are then the same for 1 or 16 threads (and run to run).
#pragma once
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

namespace cotrain::nn::kernels {

constexpr int64_t kColumnBlockRows = 64;

inline int64_t column_blocks(int64_t rows) { return (rows + kColumnBlockRows - 1) / kColumnBlockRows; }

// body(begin_row, end_row, slices) runs once per block, in parallel; slices[s]
// is that block's zeroed [cols] slice of sum s (of `sums` sums). Returns the
// slices, [sums, blocks, cols].
template <typename T, typename Body>
at::Tensor run_column_blocks(int64_t rows, int64_t cols, int64_t sums, const at::TensorOptions& options, Body&& body) {
  const int64_t blocks = column_blocks(rows);
  at::Tensor partials = at::zeros({sums, blocks, cols}, options);
  T* base = partials.data_ptr<T>();
  at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<T*> slices(static_cast<size_t>(sums));
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t s = 0; s < sums; ++s) slices[static_cast<size_t>(s)] = base + (s * blocks + b) * cols;
      body(b * kColumnBlockRows, std::min(rows, (b + 1) * kColumnBlockRows), slices.data());
    }
  });
  return partials;
}

// Sum of the block slices in block order: [sums, blocks, cols] -> [sums, cols].
template <typename T>
at::Tensor reduce_column_blocks(const at::Tensor& partials) {
  const int64_t sums = partials.size(0), blocks = partials.size(1), cols = partials.size(2);
  at::Tensor out = at::zeros({sums, cols}, partials.options());
  const T* p = partials.data_ptr<T>();
  T* o = out.data_ptr<T>();
  for (int64_t s = 0; s < sums; ++s)
    for (int64_t b = 0; b < blocks; ++b) {
      const T* slice = p + (s * blocks + b) * cols;
      T* dst = o + s * cols;
      for (int64_t c = 0; c < cols; ++c) dst[c] += slice[c];
    }
  return out;
}

}  // namespace cotrain::nn::kernels
