#include "cotrain/tasks/bench_training.h"

#include <algorithm>
#include <vector>

#include "cotrain/train/adamw.h"

namespace cotrain::tasks {

ModelConfig bench_bert_config(const BenchOptions& o) {
  ModelConfig mc;
  mc.vocab_size = o.vocab;
  mc.hidden_size = o.hidden;
  mc.num_hidden_layers = o.layers;
  mc.num_attention_heads = o.heads;
  mc.intermediate_size = o.ffn;
  mc.hidden_dropout_prob = o.dropout;
  mc.attention_probs_dropout_prob = o.dropout;
  mc.max_position_embeddings = std::max<int64_t>(512, o.seq);
  return mc;
}

BenchResult time_training_steps(const BenchOptions& o, double flops_per_step, torch::nn::Module& model,
                                const std::function<at::Tensor()>& forward) {
  model.train();
  std::vector<train::NamedParameter> params;
  int64_t count = 0;
  for (auto& item : model.named_parameters(true)) {
    params.push_back({item.key(), item.value(), !train::is_no_decay_name(item.key()), 1.0});
    count += item.value().numel();
  }
  OptimizerConfig oc;  // torch.optim.AdamW defaults but weight decay 0.01, clip 1.0
  train::AdamW optimizer(params, oc);
  BenchResult result = time_steps(o, flops_per_step, [&](int64_t) {
    optimizer.zero_grad();
    forward().backward();
    train::clip_grad_norm(optimizer.parameters(), oc.clip_norm);
    optimizer.step(oc.lr);
  });
  result.params = count;
  return result;
}

}  // namespace cotrain::tasks
