// `cotrain bench --profile FILE` writes one more step as a chrome://tracing file in
// which our fused ops are named, and bench/profile_summary.py turns it into self
// times per operator; a place it cannot write is refused before any timing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_json.h"
#include "support/support.h"

namespace {

using cotrain::testing::run_cotrain;

std::vector<std::string> tiny_mlm() {
  return {"bench", "--task", "mlm", "--layers", "1", "--hidden", "32", "--heads", "2", "--ffn", "64", "--vocab",
          "200", "--seq", "16", "--batch", "4", "--steps", "1", "--warmup", "0", "--threads", "2"};
}

TEST(BenchProfile, TraceNamesTheFusedOpsAndTheSummaryAddsThemUp) {
  const std::string trace = cotrain::testing::scratch_dir("bench_profile") + "/trace.json";
  auto args = tiny_mlm();
  args.insert(args.end(), {"--profile", trace});
  auto r = run_cotrain(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = cotrain::testing::last_json_line(r.output);
  EXPECT_EQ(j.at("kernel_threads").get<int>(), 2) << "the fused kernels did not get the threads asked for";

  auto s = cotrain::testing::run_shell("/usr/bin/python3 '" +
                                       cotrain::testing::source_path("bench/profile_summary.py") + "' '" + trace +
                                       "' 100");
  ASSERT_EQ(s.exit_code, 0) << s.output;
  for (const char* op : {"ms in profiled operators", "cotrain::linear\n", "cotrain::linear backward",
                         "cotrain::linear_gelu backward", "cotrain::packed_attention backward",
                         "cotrain::cross_entropy backward", "cotrain::adamw_step", "cotrain::clip_grad_norm"})
    EXPECT_NE(s.output.find(op), std::string::npos) << op << " missing from\n" << s.output;
}

TEST(BenchProfile, UnwritablePlaceIsRefusedNamingTheOption) {
  auto args = tiny_mlm();
  args.insert(args.end(), {"--profile", "/nonexistent-folder/trace.json"});
  auto r = run_cotrain(args);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--profile /nonexistent-folder/trace.json: cannot write there"), std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("step_ms"), std::string::npos) << "timed before refusing";
}

}  // namespace
