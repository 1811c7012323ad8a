// One process-wide switch for the fast paths (oneDNN matrix products, fused
// kernels). Off, every layer runs the plain LibTorch composition, which is the
// reference the fast paths are tested against. The environment variable
// COTRAIN_FAST=0 turns them off at start-up; `cotrain bench --fast-paths off` and
// the tests flip them at run time.
#pragma once

namespace cotrain::nn {

bool fast_paths_enabled();
void set_fast_paths(bool enabled);

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
