// `cotrain bench --task peak`: the matrix-product peak of this machine as oneDNN
// reaches it, measured on the products a BERT step does (and one large square
// product). FLOP utilisation in bench/run.sh is reported against it.
#pragma once
#include <nlohmann/json.hpp>

#include "cotrain/tasks/bench_common.h"

namespace cotrain::tasks {

// {"peak_gflops": best, "shapes": [{"m","k","n","gflops"}, ...]}
nlohmann::json bench_matmul_peak(const BenchOptions& options);

}  // namespace cotrain::tasks
