#include "cotrain/tasks/bench_peak.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/dnnl_matmul.h"

namespace cotrain::tasks {

nlohmann::json bench_matmul_peak(const BenchOptions& o) {
  const int64_t N = o.batch * o.seq, M = std::max<int64_t>(1, std::llround(o.mask_prob * static_cast<double>(N)));
  const std::vector<std::array<int64_t, 3>> shapes{
      {N, o.hidden, o.ffn}, {N, o.ffn, o.hidden}, {M, o.hidden, o.vocab}, {2048, 2048, 2048}};
  nlohmann::json rows = nlohmann::json::array();
  double best = 0;
  // With --bf16 on, the operands are bfloat16 (fp32 result), as the linear layers'
  // products are then: that peak is the one bf16 steps are measured against.
  const bool bf16 = nn::bf16_matmul_enabled();
  for (const auto& [m, k, n] : shapes) {
    at::Tensor a = at::randn({m, k}), w = at::randn({n, k});  // weight in [out, in] layout
    if (bf16) {
      a = a.to(at::kBFloat16);
      w = w.to(at::kBFloat16);
    }
    at::Tensor out = at::empty({m, n});
    using clock = std::chrono::steady_clock;
    std::vector<double> seconds;
    for (int64_t i = 0; i < o.warmup + o.steps; ++i) {
      const auto start = clock::now();
      nn::kernels::dnnl_matmul_into(a, w.t(), out);
      if (i >= o.warmup) seconds.push_back(std::chrono::duration<double>(clock::now() - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    const double gflops = 2.0 * static_cast<double>(m * k * n) / seconds[seconds.size() / 2] / 1e9;
    best = std::max(best, gflops);
    rows.push_back({{"m", m}, {"k", k}, {"n", n}, {"gflops", gflops}});
  }
  return {{"task", "peak"}, {"dtype", bf16 ? "bf16" : "fp32"}, {"peak_gflops", best}, {"shapes", rows}};
}

}  // namespace cotrain::tasks
