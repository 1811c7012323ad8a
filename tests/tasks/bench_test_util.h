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

}  // namespace cotrain::testing
