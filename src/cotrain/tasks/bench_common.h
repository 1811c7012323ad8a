// Shared machinery of `cotrain bench`: the sizes a benchmark runs at, timing of
// warm-up plus measured training steps, and the one-line JSON result.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cotrain::tasks {

struct BenchOptions {
  std::string task = "mlm";
  int64_t layers = 4, hidden = 256, heads = 4, ffn = 1024, vocab = 30522;
  int64_t seq = 128, batch = 32;
  int64_t regions = 36;        // image regions (unimo, vilbert)
  int64_t entities = 8;        // entities per document (erica)
  int64_t steps = 10, warmup = 2;
  int64_t threads = 0;         // 0: all cores
  double mask_prob = 0.15;     // fraction of token positions predicted
  double dropout = 0.1;
  uint64_t seed = 1;
  std::string profile;          // chrome://tracing file of one more step; empty: none
};

struct BenchResult {
  std::vector<double> step_ms;  // every measured step, in order
  double median_ms = 0;
  double samples_per_s = 0;
  double gflops = 0;            // matrix-product FLOPs of a step / median time
  double flops_per_step = 0;
  double peak_rss_mb = 0;
  double cpu_ms = 0;            // process CPU time (user + system) per measured step
  // Optional, set by the task's bench after time_steps (bench_json prints them when set):
  int64_t params = 0;           // model parameters (tied ones once); "params" when > 0
  bool has_loss = false;
  double loss = 0;              // total loss of the last step; "loss"
  std::map<std::string, double> loss_terms;  // its parts; "loss_<name>"
};

// Runs `warmup` untimed then `steps` timed calls of `step` (which receives the
// step number and does a whole training step: forward, backward, optimizer).
BenchResult time_steps(const BenchOptions& options, double flops_per_step, const std::function<void(int64_t)>& step);

// {"step_ms": median, "samples_per_s", "gflops", "peak_rss_mb", ...}
nlohmann::json bench_json(const BenchOptions& options, const BenchResult& result);

// Peak resident memory of this process so far, in MiB.
double peak_rss_mb();
// CPU time (user + system, all threads) this process has used, in ms. On a loaded
// machine it says more about the work a step does than the wall clock.
double process_cpu_ms();

// Refuses sizes that cannot make a model (names the option and the problem).
void validate_bench_options(const BenchOptions& options);

}  // namespace cotrain::tasks
