// What a task implements to train as one of several processes (README "Several
// processes and machines"). Kept apart from TrainTask so that tasks which have not
// been made data-parallel need nothing; the trainer refuses them with a clear error.
#pragma once
#include <cstdint>

namespace cotrain::train {

// From set_data_shard on, the task builds only rank `rank`'s rows of every global
// micro-batch (trainer.batch_size examples or the task's own batch counts; rank r
// takes rows r, r + W, r + 2W, ...), drawing from the trainer's Rng exactly as one
// process would, so that the ranks' rows together are the one-process batch.
//
// Its LossTerms are then this rank's SHARES of the global micro-batch's losses: the
// shares of all ranks add up to the loss one process would compute on the whole
// micro-batch (a mean over masked tokens divides the local sum by the global count,
// a mean over anchors by the global anchor count). The trainer sums gradients and
// logged values over ranks, so 2 processes with global batch B take the same step
// as 1 process with batch B.
class DataParallelTask {
 public:
  virtual ~DataParallelTask() = default;
  virtual void set_data_shard(int64_t rank, int64_t world_size) = 0;
};

}  // namespace cotrain::train
