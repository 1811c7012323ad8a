// The training loop shared by every task: micro-batches with gradient accumulation,
// clipping, AdamW, the learning-rate schedule, progress display, metrics.jsonl,
// periodic atomic checkpoints, exact --resume, and SIGINT/SIGTERM = save and exit.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "cotrain/core/config.h"
#include "cotrain/train/divergence_guard.h"
#include "cotrain/train/task.h"

namespace cotrain::dist {
class GradientBuckets;
}

namespace cotrain::train {

struct TrainerOptions {
  std::string run_dir;
  bool resume = false;
  // Stop (with a checkpoint) after this many updates even if max_updates is larger;
  // 0: no such stop. Used by tests to interrupt a run at a precise point.
  int64_t stop_after = 0;
  // Several processes: gradients are summed over ranks in buckets of about this many MB.
  double bucket_mb = 25;
};

struct TrainResult {
  int64_t updates = 0;
  bool interrupted = false;   // stopped by a signal or stop_after
  std::string checkpoint;     // the last checkpoint written
  double last_loss = 0;
};

// The random-number generator the trainer draws batches from (masking, sampling)
// at the start of a run. `cotrain batch` uses it too, so that the batch it writes is
// exactly the first one training sees.
Rng initial_data_rng(const TrainerConfig& trainer);

// With several processes (dist::World connected, README "Several processes and
// machines"): every rank runs this loop on its share of each batch; gradients are
// summed over ranks in buckets started during backward; weights start from rank 0's;
// only rank 0 writes the run folder (checkpoints, metrics.jsonl, config.yaml) and
// the progress display; logged values, sample counts and stop decisions (signals,
// time limit, divergence) are agreed over all ranks.
class Trainer {
 public:
  Trainer(Config config, TrainTask& task, TrainerOptions options);
  ~Trainer();
  TrainResult run();

 private:
  // Rank 0 prepares the run folder (or loads the checkpoint to resume); the others
  // learn whether that worked and load the same checkpoint. Then everyone takes rank
  // 0's weights.
  void start_run();
  // Checks the run folder, resumes (--resume) or refuses to overwrite, starts metrics.jsonl.
  void prepare_run_folder();
  bool writes_files() const;
  void save(int64_t update, double elapsed);
  void restore();
  // Loads a checkpoint folder's weights, optimizer, RNG, data position and counters.
  void load_checkpoint(const std::string& dir);
  // Divergence at the update being computed: back to the last checkpoint (metrics
  // truncated to it, the event logged), or a cotrain::Error when that is not allowed.
  void roll_back(const std::string& why, const std::string& metrics_path);

  // Running sums of the logged values over one display period. Saved in checkpoints
  // so that a resumed run logs the same records as an uninterrupted one.
  struct PeriodMeter {
    std::map<std::string, double> sums;
    double grad_norm = 0;
    int64_t updates = 0, samples = 0, tokens = 0;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    void reset() { *this = PeriodMeter(); }
  };
  PeriodMeter period_;

  Config config_;
  TrainTask& task_;
  TrainerOptions options_;
  std::unique_ptr<AdamW> optimizer_;
  Rng rng_;
  int64_t update_ = 0;
  int64_t samples_ = 0;
  double elapsed_before_ = 0;  // seconds spent before a resume
  std::string last_checkpoint_;
  DivergenceGuard guard_;
  std::unique_ptr<dist::GradientBuckets> buckets_;  // several processes only
};

}  // namespace cotrain::train
