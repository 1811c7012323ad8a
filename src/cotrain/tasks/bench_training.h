// The part every `cotrain bench` task shares once its model and batches exist: the
// BERT-shaped model config the sizes describe, and timing of whole training steps
// (zero_grad, forward, backward, clip 1.0, our AdamW over every parameter).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <functional>

#include "cotrain/core/config.h"
#include "cotrain/tasks/bench_common.h"

namespace cotrain::tasks {

// --vocab/--hidden/--layers/--heads/--ffn/--dropout as a BERT config (positions >= --seq).
ModelConfig bench_bert_config(const BenchOptions& options);

// Times training steps of `model`: `forward` makes a batch and returns the summed
// loss. AdamW as torch.optim.AdamW but weight decay 0.01 (none for biases and
// LayerNorm), clip 1.0. Sets the result's parameter count.
BenchResult time_training_steps(const BenchOptions& options, double flops_per_step, torch::nn::Module& model,
                                const std::function<at::Tensor()>& forward);

}  // namespace cotrain::tasks
