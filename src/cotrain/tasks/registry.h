// The tasks `cotrain pretrain --task NAME` (registry.cpp) and `cotrain finetune --task
// NAME` (finetune_registry.cpp) know. Each task file provides a factory; the registry
// files list them (one entry per task).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cotrain/core/config.h"
#include "cotrain/train/task.h"

namespace cotrain::tasks {

// What the command line gives a task besides the config.
struct TaskInputs {
  std::string init;  // --init: a Hugging Face folder or cotrain checkpoint to start from
};

// Builds the task; may fill in config fields the data or the init folder decide
// (vocab_size, model geometry of --init), which then go into checkpoints.
using TaskFactory = std::function<std::unique_ptr<train::TrainTask>(Config& config, const TaskInputs& inputs)>;

// Debugging and verification (`cotrain batch`, `cotrain loss`): the exact inputs of
// the first micro-batch as JSON, and the losses of the model on such a JSON batch
// with dropout off. The PyTorch twins in tests/reference/ consume the same JSON.
using BatchWriter = std::function<nlohmann::json(Config& config, const TaskInputs& inputs)>;
using BatchLoss = std::function<nlohmann::json(Config& config, const TaskInputs& inputs, const nlohmann::json& batch)>;

// Work on the trained model after the last update (e.g. choosing a decision
// threshold on dev data, writing predictions, evaluating). Gets the final checkpoint
// folder and the run folder; returns a JSON report (null: nothing to print).
using TaskFinisher = std::function<nlohmann::json(Config& config, train::TrainTask& task,
                                                  const std::string& checkpoint, const std::string& run_dir)>;

struct TaskEntry {
  std::string name;
  std::string summary;
  TaskFactory make;
  BatchWriter batch;    // may be empty
  BatchLoss loss;       // may be empty
  TaskFinisher finish;  // may be empty
};

const std::vector<TaskEntry>& task_registry();      // pretraining tasks
const std::vector<TaskEntry>& finetune_registry();  // fine-tuning tasks (finetune_registry.cpp)
// cotrain::Error listing the known tasks when `name` is not in `registry`.
const TaskEntry& find_task(const std::vector<TaskEntry>& registry, const std::string& name);
// Looks in both registries (for `cotrain batch` / `cotrain loss`).
const TaskEntry& find_task(const std::string& name);

}  // namespace cotrain::tasks
