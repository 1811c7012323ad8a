// One process-wide switch for the fast paths (oneDNN matrix products, fused
// kernels). Off, every layer runs the plain LibTorch composition, which is the
// reference the fast paths are tested against. The environment variable
// COTRAIN_FAST=0 turns them off at start-up; `cotrain bench --fast-paths off` and
// the tests flip them at run time.
#pragma once

namespace cotrain::nn {

bool fast_paths_enabled();
void set_fast_paths(bool enabled);

// Opt-in bfloat16 matrix products for the linear layers (float32 master weights,
// float32 accumulation and results): COTRAIN_BF16=1 or set_bf16_matmul(true). Only
// takes effect while the fast paths are on. Off by default: results then differ
// from float32 by bfloat16's ~3 significant digits per operand.
bool bf16_matmul_enabled();
void set_bf16_matmul(bool enabled);

// How many threads an at::parallel_for inside the fused kernels really gets (at
// most at::get_num_threads()). LibTorch defines parallel_for inline over OpenMP, so
// kernels compiled without -fopenmp silently run on one thread; the tests and
// `cotrain bench` check this.
int kernel_threads();

// Restores the previous setting when it goes out of scope (tests, comparisons).
class FastPathsGuard {
 public:
  explicit FastPathsGuard(bool enabled) : previous_(fast_paths_enabled()) { set_fast_paths(enabled); }
  ~FastPathsGuard() { set_fast_paths(previous_); }
  FastPathsGuard(const FastPathsGuard&) = delete;
  FastPathsGuard& operator=(const FastPathsGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace cotrain::nn
