// What the equivalence tests share: the weights and metrics of two run folders
// compared, and a command line run as N processes by `cotrain launch`.
#pragma once
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"
#include "cotrain/io/safetensors.h"
#include "support/support.h"

namespace cotrain::dist_test {

inline std::string latest_of(const std::string& run) {
  std::string rel = cotrain::testing::read_file(run + "/latest");
  while (!rel.empty() && (rel.back() == '\n' || rel.back() == ' ')) rel.pop_back();
  return run + "/" + rel;
}

// Largest |a - b| over every tensor of two model.safetensors (same names and shapes required).
inline double max_weight_diff(const std::string& run_a, const std::string& run_b) {
  auto a = cotrain::io::load_safetensors(latest_of(run_a) + "/model.safetensors").tensors;
  auto b = cotrain::io::load_safetensors(latest_of(run_b) + "/model.safetensors").tensors;
  EXPECT_EQ(a.size(), b.size());
  EXPECT_FALSE(a.empty());
  double worst = 0;
  for (const auto& [name, t] : a) {
    auto it = b.find(name);
    if (it == b.end() || t.sizes() != it->second.sizes()) {
      ADD_FAILURE() << name << " missing or reshaped";
      continue;
    }
    worst = std::max(worst, (t.to(at::kDouble) - it->second.to(at::kDouble)).abs().max().item<double>());
  }
  return worst;
}

// Also: the weights moved (the comparison is not trivially true).
inline double max_weight_change(const std::string& run) {
  auto first = cotrain::io::load_safetensors(run + "/checkpoints/update-0000001/model.safetensors").tensors;
  auto last = cotrain::io::load_safetensors(latest_of(run) + "/model.safetensors").tensors;
  double most = 0;
  for (const auto& [name, t] : last)
    most = std::max(most, (t.to(at::kDouble) - first.at(name).to(at::kDouble)).abs().max().item<double>());
  return most;
}

struct Records {
  std::map<int64_t, nlohmann::json> by_update;
};
inline Records records_of(const std::string& run) {
  Records r;
  for (const auto& line : cotrain::cli_test::split_lines(cotrain::testing::read_file(run + "/metrics.jsonl"))) {
    auto j = nlohmann::json::parse(line);
    const int64_t u = j.at("update").get<int64_t>();
    EXPECT_EQ(r.by_update.count(u), 0u) << "update " << u << " logged twice (only rank 0 may write)";
    r.by_update[u] = j;
  }
  return r;
}

inline void expect_same_records(const std::string& one, const std::string& two, const std::vector<std::string>& keys) {
  Records a = records_of(one), b = records_of(two);
  ASSERT_EQ(a.by_update.size(), b.by_update.size());
  for (const auto& [u, ra] : a.by_update) {
    const auto& rb = b.by_update.at(u);
    EXPECT_EQ(ra.at("samples"), rb.at("samples")) << "update " << u;
    for (const auto& k : keys)
      EXPECT_NEAR(ra.at(k).get<double>(), rb.at(k).get<double>(), 2e-5 * std::max(1.0, std::abs(ra.at(k).get<double>())))
          << k << " at update " << u;
  }
}

inline std::vector<std::string> launched(int nproc, std::vector<std::string> args) {
  std::vector<std::string> out = {"launch", "--nproc", std::to_string(nproc), "--"};
  out.insert(out.end(), args.begin(), args.end());
  out.insert(out.end(), {"--dist-timeout", "60"});
  return out;
}

}  // namespace cotrain::dist_test
