// A model's own torch::nn modules (their parameters, probability and train/eval
// state) run through the fast paths when they are on: oneDNN products and
// counter-based dropout. Off, the kernels fall back to the plain LibTorch ops.
#pragma once
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "cotrain/nn/kernels/dropout.h"
#include "cotrain/nn/kernels/linear.h"

namespace cotrain::models {

inline at::Tensor run_linear(const torch::nn::Linear& layer, const at::Tensor& x) {
  return nn::kernels::fast_linear(x, layer->weight, layer->bias);
}

inline at::Tensor run_dropout(const torch::nn::Dropout& dropout, const at::Tensor& x) {
  return nn::kernels::fast_dropout(x, dropout->options.p(), dropout->is_training());
}

}  // namespace cotrain::models
