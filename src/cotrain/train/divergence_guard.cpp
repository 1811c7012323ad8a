#include "cotrain/train/divergence_guard.h"

#include <algorithm>
#include <cmath>
#include <vector>
#include <fstream>

#include <fmt/format.h>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"

namespace cotrain::train {

DivergenceGuard::DivergenceGuard(const RecoveryConfig& config) : config_(config) {
  if (config_.max_rollbacks < 0) fail("recovery.max_rollbacks: {} is negative", config_.max_rollbacks);
  if (!(config_.spike_factor == 0 || config_.spike_factor > 1))
    fail("recovery.spike_factor: {} must be 0 (off) or above 1", config_.spike_factor);
  if (config_.spike_window < 1) fail("recovery.spike_window: {} must be at least 1", config_.spike_window);
}

std::string DivergenceGuard::check(double loss, double grad_norm) const {
  if (!std::isfinite(loss)) return fmt::format("loss is {}", loss);
  if (!std::isfinite(grad_norm)) return fmt::format("gradient norm is {}", grad_norm);
  if (config_.spike_factor > 0 && static_cast<int64_t>(window_.size()) == config_.spike_window) {
    const double average = window_sum_ / static_cast<double>(window_.size());
    if (average > 0 && loss > config_.spike_factor * average)
      return fmt::format("loss {:.4g} is {:.1f} times its moving average {:.4g}", loss, loss / average, average);
  }
  return "";
}

void DivergenceGuard::accept(double loss) {
  window_.push_back(loss);
  window_sum_ += loss;
  while (static_cast<int64_t>(window_.size()) > config_.spike_window) {
    window_sum_ -= window_.front();
    window_.pop_front();
  }
}

bool DivergenceGuard::begin_rollback(int64_t update) {
  if (rollbacks_ >= config_.max_rollbacks) return false;
  ++rollbacks_;
  ++skips_[update];
  return true;
}

int64_t DivergenceGuard::skips_at(int64_t update) const {
  auto it = skips_.find(update);
  return it == skips_.end() ? 0 : it->second;
}

nlohmann::json DivergenceGuard::state() const {
  nlohmann::json skips = nlohmann::json::object();
  for (const auto& [update, n] : skips_) skips[std::to_string(update)] = n;
  return {{"window", window_}, {"rollbacks", rollbacks_}, {"skips", skips}};
}

void DivergenceGuard::restore_state(const nlohmann::json& state) {
  window_.clear();
  window_sum_ = 0;
  if (state.is_null()) return;  // a checkpoint from before the guard existed
  for (double loss : state.at("window").get<std::vector<double>>()) accept(loss);
  rollbacks_ = std::max(rollbacks_, state.at("rollbacks").get<int64_t>());
  for (const auto& [update, n] : state.at("skips").get<std::map<std::string, int64_t>>()) {
    int64_t& mine = skips_[std::stoll(update)];
    mine = std::max(mine, n);
  }
}

void keep_metrics_through(const std::string& path, int64_t update) {
  std::string kept;
  if (is_regular_file(path)) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      auto record = nlohmann::json::parse(line, nullptr, false);
      if (!record.is_discarded() && record.is_object() &&
          (record.contains("event") || record.value("update", int64_t{0}) <= update))
        kept += line + "\n";
    }
  }
  write_file_atomically(path, kept);
}

}  // namespace cotrain::train
