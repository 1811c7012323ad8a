// What the trainer needs from a task (mlm, erica, unimo, vilbert, ...). A task owns
// its model, its data and its batch builder; the trainer owns the loop, the
// optimiser, the schedule, checkpoints and the random-number state.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "cotrain/core/rng.h"
#include "cotrain/train/adamw.h"

namespace torch::nn {
class Module;
}

namespace cotrain::train {

// The named losses of one micro-batch. "total" is the weighted sum to minimise;
// the others are logged per objective.
struct LossTerms {
  std::map<std::string, at::Tensor> terms;
  int64_t samples = 0;  // examples in the micro-batch (throughput)
  int64_t tokens = 0;   // tokens in the micro-batch
};

class TrainTask {
 public:
  virtual ~TrainTask() = default;
  virtual std::string name() const = 0;
  virtual torch::nn::Module& module() = 0;
  // Parameters in a fixed order, with weight-decay and learning-rate decisions.
  virtual std::vector<NamedParameter> parameters() = 0;
  // Builds the next micro-batch (drawing from `rng`) and returns its losses.
  virtual LossTerms next_loss(Rng& rng) = 0;
  // Where the data reader stands (epoch, position), for exact resumption.
  virtual nlohmann::json data_state() const = 0;
  virtual void restore_data_state(const nlohmann::json& state) = 0;
  // Writes the model as a folder a user keeps (Hugging Face names, vocabulary).
  virtual void save_model(const std::string& dir) = 0;
  // Loads weights written by save_model (for --resume).
  virtual void load_model(const std::string& dir) = 0;
};

}  // namespace cotrain::train
