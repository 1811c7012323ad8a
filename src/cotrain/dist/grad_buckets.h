// Gradient all-reduce in buckets, overlapped with the backward pass: what
// DistributedDataParallel does in PyTorch, which LibTorch's C++ API lacks.
//
// Parameters are grouped, in reverse order (the order their gradients tend to become
// ready), into buckets of about `bucket_bytes`. A hook after each parameter's
// gradient accumulation marks it ready; a bucket whose parameters are all ready is
// copied into one flat buffer and its sum over ranks is started at once, while the
// backward pass goes on. Buckets are started strictly in index order on every rank
// (a ready bucket waits for the ones before it), so that the collectives of all ranks
// pair up. finish() starts what is left (parameters this backward did not reach),
// waits, and writes the sums back into the gradients.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

namespace cotrain::dist {

class GradientBuckets {
 public:
  GradientBuckets(const std::vector<at::Tensor>& parameters, int64_t bucket_bytes);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  // Before a backward pass: whether it is the last of the update (gradients to be
  // summed over ranks) or one whose gradients only accumulate locally.
  void prepare(bool reduce);
  // After the last backward pass: every parameter's gradient is the sum over ranks.
  // A parameter without a gradient on any rank keeps none.
  void finish();

  int64_t bucket_count() const;
  // Buckets started from the hooks (while backward ran) in the last reduction.
  int64_t started_during_backward() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace cotrain::dist
