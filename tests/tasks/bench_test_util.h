// Running `cotrain bench --task <task>` and its PyTorch twin bench/torch_<task>.py
// with the same arguments and reading the one JSON line each prints; the test fails
// with the program's output when it exits non-zero.
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_json.h"
#include "support/support.h"

namespace cotrain::testing {

inline nlohmann::json cotrain_bench_json(const std::string& task, const std::vector<std::string>& args) {
  std::vector<std::string> all = {"bench", "--task", task};
  all.insert(all.end(), args.begin(), args.end());
  auto r = run_cotrain(all);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return last_json_line(r.output);
}

inline nlohmann::json torch_bench_json(const std::string& task, const std::vector<std::string>& args) {
  std::string command = "/usr/bin/python3 '" + source_path("bench/torch_" + task + ".py") + "'";
  for (const auto& a : args) command += " " + a;
  auto r = run_shell(command);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return last_json_line(r.output);
}

// What a task's bench and its twin must agree on: the parameter count the
// architecture gives, one FLOP count, the task's name, one timed step.
inline void expect_same_counts(const nlohmann::json& ours, const nlohmann::json& theirs, int64_t architecture_params,
                               const std::string& task) {
  ASSERT_TRUE(ours.contains("params")) << ours.dump();
  ASSERT_TRUE(theirs.contains("params")) << theirs.dump();
  EXPECT_EQ(ours["params"].get<int64_t>(), architecture_params);
  EXPECT_EQ(theirs["params"].get<int64_t>(), architecture_params);
  const double flops = ours["gflop_per_step"].get<double>();
  EXPECT_GT(flops, 0);
  EXPECT_NEAR(theirs["gflop_per_step"].get<double>(), flops, 1e-12 * flops);
  EXPECT_EQ(ours["task"], task);
  EXPECT_EQ(theirs["task"], task);
  EXPECT_EQ(ours["all_step_ms"].size(), 1u);
}

}  // namespace cotrain::testing
