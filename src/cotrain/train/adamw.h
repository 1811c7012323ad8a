// AdamW with decoupled weight decay, exactly torch.optim.AdamW's update, with its
// state addressable by parameter name so that checkpoints hold it as safetensors.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cotrain/core/config.h"
#include "cotrain/io/safetensors.h"

namespace cotrain::train {

struct NamedParameter {
  std::string name;
  at::Tensor param;
  bool decay = true;      // weight decay applies (not to biases and LayerNorm)
  double lr_scale = 1.0;  // e.g. 0.1 for pretrained layers in ViLBERT
};

// True for names of biases and LayerNorm parameters, which take no weight decay.
bool is_no_decay_name(const std::string& name);

class AdamW {
 public:
  AdamW(std::vector<NamedParameter> params, const OptimizerConfig& config);
  // One update with learning rate `lr` (times each parameter's lr_scale).
  // Parameters without a gradient are left untouched, as in PyTorch.
  void step(double lr);
  void zero_grad();
  int64_t step_count() const { return step_; }
  const std::vector<NamedParameter>& parameters() const { return params_; }

  // "<name>.exp_avg" / "<name>.exp_avg_sq" for every parameter that has state.
  io::TensorMap state() const;
  void load_state(const io::TensorMap& state, int64_t step_count);

 private:
  std::vector<NamedParameter> params_;
  std::vector<at::Tensor> exp_avg_, exp_avg_sq_;
  OptimizerConfig config_;
  int64_t step_ = 0;
};

// Global L2 norm of all gradients; scales them down to max_norm when above it
// (max_norm <= 0: only measures). Returns the norm before clipping.
double clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm);

}  // namespace cotrain::train
