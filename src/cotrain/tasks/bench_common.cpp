#include "cotrain/tasks/bench_common.h"

#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "cotrain/core/error.h"

namespace cotrain::tasks {

double peak_rss_mb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

double process_cpu_ms() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

void validate_bench_options(const BenchOptions& o) {
  auto positive = [](const char* name, int64_t v) {
    if (v <= 0) fail("bench: --{} must be positive (got {})", name, v);
  };
  positive("layers", o.layers);
  positive("hidden", o.hidden);
  positive("heads", o.heads);
  positive("ffn", o.ffn);
  positive("vocab", o.vocab);
  positive("seq", o.seq);
  positive("batch", o.batch);
  positive("steps", o.steps);
  if (o.warmup < 0) fail("bench: --warmup must be >= 0 (got {})", o.warmup);
  if (o.regions < 0) fail("bench: --regions must be >= 0 (got {})", o.regions);
  if (o.hidden % o.heads != 0) fail("bench: --heads ({}) must divide --hidden ({})", o.heads, o.hidden);
  if (o.mask_prob <= 0 || o.mask_prob > 1) fail("bench: --mask-prob must be in (0, 1] (got {})", o.mask_prob);
  if (o.dropout < 0 || o.dropout >= 1) fail("bench: --dropout must be in [0, 1) (got {})", o.dropout);
  if (!o.profile.empty() && !std::ofstream(o.profile))  // before minutes of timing, not after
    fail("bench: --profile {}: cannot write there ({})", o.profile, std::strerror(errno));
}

BenchResult time_steps(const BenchOptions& options, double flops_per_step, const std::function<void(int64_t)>& step) {
  using clock = std::chrono::steady_clock;
  for (int64_t i = 0; i < options.warmup; ++i) step(i);
  BenchResult r;
  const double cpu_start = process_cpu_ms();
  for (int64_t i = 0; i < options.steps; ++i) {
    const auto start = clock::now();
    step(options.warmup + i);
    r.step_ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - start).count());
  }
  r.cpu_ms = (process_cpu_ms() - cpu_start) / static_cast<double>(options.steps);
  std::vector<double> sorted = r.step_ms;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  r.median_ms = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  r.samples_per_s = static_cast<double>(options.batch) / (r.median_ms / 1000.0);
  r.flops_per_step = flops_per_step;
  r.gflops = flops_per_step / (r.median_ms / 1000.0) / 1e9;
  r.peak_rss_mb = peak_rss_mb();
  // --profile FILE (or COTRAIN_BENCH_PROFILE=FILE): one more step under LibTorch's
  // profiler, as a chrome://tracing file (bench/profile_summary.py sums it per operator).
  const char* from_env = std::getenv("COTRAIN_BENCH_PROFILE");
  const std::string trace = !options.profile.empty() ? options.profile : from_env ? from_env : "";
  if (!trace.empty()) {
    torch::autograd::profiler::RecordProfile guard{trace};
    step(options.warmup + options.steps);
  }
  return r;
}

nlohmann::json bench_json(const BenchOptions& o, const BenchResult& r) {
  nlohmann::json j = {{"step_ms", r.median_ms},
          {"samples_per_s", r.samples_per_s},
          {"gflops", r.gflops},
          {"peak_rss_mb", r.peak_rss_mb},
          {"cpu_ms", r.cpu_ms},
          {"task", o.task},
          {"steps", o.steps},
          {"threads", o.threads},
          {"gflop_per_step", r.flops_per_step / 1e9},
          {"all_step_ms", r.step_ms}};
  if (r.params > 0) j["params"] = r.params;
  if (r.has_loss) j["loss"] = r.loss;
  for (const auto& [name, value] : r.loss_terms) j["loss_" + name] = value;
  return j;
}

}  // namespace cotrain::tasks
