// The process group of a data-parallel run: LibTorch's c10d (a TCPStore for the
// rendezvous, ProcessGroupGloo for CPU tensors; ProcessGroupNCCL for CUDA tensors
// when LibTorch was built with it). The c10d headers stay inside process_group.cpp.
//
// One group per process (like torch.distributed's default group): World::get().
// Until connect() is called, or with world size 1, it is a group of one whose
// collectives return at once without copying anything.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "cotrain/dist/environment.h"

namespace cotrain::dist {

// A collective in flight; wait() blocks until it is done (cotrain::Error on failure
// or time-out). Waiting twice is harmless.
class Pending {
 public:
  Pending() = default;
  explicit Pending(std::function<void()> wait) : wait_(std::move(wait)) {}
  void wait() {
    if (wait_) {
      auto w = std::move(wait_);
      wait_ = nullptr;
      w();
    }
  }

 private:
  std::function<void()> wait_;
};

class World {
 public:
  static World& get();

  // Joins the group `r` describes (nothing to do for a world of one). A peer that
  // does not turn up within `timeout` is a cotrain::Error that names the address,
  // the rank and the time waited. The same timeout bounds every later collective.
  void connect(const Rendezvous& r, std::chrono::milliseconds timeout);

  int64_t rank() const { return rank_; }
  int64_t size() const { return size_; }
  bool distributed() const { return size_ > 1; }
  std::string backend() const;

  // Sum over ranks, in place. Blocking / started in the background.
  void all_reduce_sum(at::Tensor& tensor);
  Pending all_reduce_sum_async(at::Tensor tensor);
  // The same on a second group kept for gradient buckets: their sums start from
  // autograd hooks in an order of their own, so they must not share the sequence of
  // collectives (counts, gathers) that the program issues in its own order.
  Pending reduce_gradients_async(at::Tensor tensor);
  // Rank `root`'s values into `tensor` on every rank, in place.
  void broadcast(at::Tensor& tensor, int64_t root = 0);
  // Every rank's `tensor` (same shape on all ranks), concatenated along dim 0 in rank order.
  at::Tensor all_gather(const at::Tensor& tensor);
  void barrier();

  // Leaves the group (tests; the process's exit does it otherwise).
  void disconnect();

  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World();

 private:
  World();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t rank_ = 0, size_ = 1;
};

// The current group, for short call sites.
inline World& world() { return World::get(); }

}  // namespace cotrain::dist
