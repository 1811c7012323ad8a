// Divergence detection for the trainer (issue 8, after Marian): an update whose loss
// or gradient norm is not finite, or whose loss exceeds recovery.spike_factor times
// the moving average of the last recovery.spike_window healthy losses, is divergent.
// The trainer then rolls back to its last checkpoint and, when the replay reaches the
// offending update again, draws and drops that update's batches before drawing new
// ones; after recovery.max_rollbacks rollbacks the run stops.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "cotrain/core/config.h"

namespace cotrain::train {

class DivergenceGuard {
 public:
  explicit DivergenceGuard(const RecoveryConfig& config);

  // "" for a healthy update, else why it is divergent.
  std::string check(double loss, double grad_norm) const;
  // Adds a healthy update's loss to the moving average.
  void accept(double loss);

  // Whether another rollback is allowed; if so, counts it and marks `update` so that
  // its batches are skipped on the replay.
  bool begin_rollback(int64_t update);
  int64_t rollbacks() const { return rollbacks_; }
  // How many of `update`'s batches to draw and drop before its real one: one per
  // rollback caused at that update (each replay gets past one more bad batch). Kept
  // for the whole run: a later rollback to before `update` meets the same batches.
  int64_t skips_at(int64_t update) const;

  // Saved in progress.json: the moving-average window, the rollback count and the
  // updates still to skip, so that a resumed run judges exactly as one run would.
  nlohmann::json state() const;
  // Restores the window from a checkpoint; the rollback count and the skips of this
  // process are kept (a rollback restores a checkpoint written before them).
  void restore_state(const nlohmann::json& state);

 private:
  RecoveryConfig config_;
  std::deque<double> window_;
  double window_sum_ = 0;
  int64_t rollbacks_ = 0;
  std::map<int64_t, int64_t> skips_;  // update -> batches to drop
};

// Rewrites metrics.jsonl keeping the records of updates up to `update` and every
// event record (rollbacks), as a rolled-back run needs.
void keep_metrics_through(const std::string& path, int64_t update);

}  // namespace cotrain::train
