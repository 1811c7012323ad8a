#include "cotrain/nn/fast_paths.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace cotrain::nn {

namespace {
bool from_environment() {
  const char* v = std::getenv("COTRAIN_FAST");
  if (v == nullptr) return true;
  return !(std::strcmp(v, "0") == 0 || std::strcmp(v, "off") == 0 || std::strcmp(v, "false") == 0);
}

std::atomic<bool>& flag() {
  static std::atomic<bool> enabled{from_environment()};
  return enabled;
}
}  // namespace

std::atomic<bool>& bf16_flag() {
  static std::atomic<bool> enabled{[] {
    const char* v = std::getenv("COTRAIN_BF16");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }()};
  return enabled;
}

bool bf16_matmul_enabled() { return bf16_flag().load(std::memory_order_relaxed); }
void set_bf16_matmul(bool enabled) { bf16_flag().store(enabled, std::memory_order_relaxed); }

bool fast_paths_enabled() { return flag().load(std::memory_order_relaxed); }
void set_fast_paths(bool enabled) { flag().store(enabled, std::memory_order_relaxed); }

int kernel_threads() {
  std::atomic<int> most{1};
  // Grain 1 over as many items as threads: every thread of the pool gets one.
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
    const int mine = at::get_thread_num() + 1;
    int seen = most.load();
    while (mine > seen && !most.compare_exchange_weak(seen, mine)) {
    }
  });
  return most.load();
}

}  // namespace cotrain::nn
