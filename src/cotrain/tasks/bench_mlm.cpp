#include "cotrain/tasks/bench_mlm.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "cotrain/models/bert/bert.h"
#include "cotrain/tasks/bench_training.h"

namespace cotrain::tasks {

int64_t mlm_predicted_positions(const BenchOptions& o) {
  return std::max<int64_t>(1, std::llround(o.mask_prob * static_cast<double>(o.batch * o.seq)));
}

double mlm_step_flops(const BenchOptions& o) {
  const double N = static_cast<double>(o.batch * o.seq), H = static_cast<double>(o.hidden),
               F = static_cast<double>(o.ffn), T = static_cast<double>(o.seq), V = static_cast<double>(o.vocab),
               M = static_cast<double>(mlm_predicted_positions(o));
  const double per_layer = 2 * N * H * 3 * H   // query, key, value
                           + 2 * N * H * H     // attention output
                           + 2 * 2 * N * H * F // feed-forward in and out
                           + 2 * 2 * N * T * H;  // scores and weighted sum, all heads
  const double head = 2 * M * H * H + 2 * M * H * V;
  return 3.0 * (static_cast<double>(o.layers) * per_layer + head);
}

namespace {
struct SyntheticBatch {
  at::Tensor input_ids, attention_mask, token_type_ids, labels;
};

// Uniform token ids over the non-special part of the vocabulary, no padding, and
// exactly M predicted positions chosen uniformly without replacement.
SyntheticBatch make_batch(const BenchOptions& o, at::Generator& gen) {
  const int64_t low = std::min<int64_t>(5, o.vocab - 1);
  SyntheticBatch b;
  b.input_ids = at::randint(low, o.vocab, {o.batch, o.seq}, gen, at::kLong);
  b.attention_mask = at::ones({o.batch, o.seq}, at::kLong);
  b.token_type_ids = at::zeros({o.batch, o.seq}, at::kLong);
  at::Tensor positions = at::randperm(o.batch * o.seq, gen, at::kLong).slice(0, 0, mlm_predicted_positions(o));
  at::Tensor labels = at::full({o.batch * o.seq}, -100, at::kLong);
  labels.index_put_({positions}, at::randint(low, o.vocab, {positions.size(0)}, gen, at::kLong));
  b.labels = labels.view({o.batch, o.seq});
  return b;
}
}  // namespace

BenchResult bench_mlm(const BenchOptions& o) {
  validate_bench_options(o);
  at::manual_seed(o.seed);
  ModelConfig mc = bench_bert_config(o);
  models::BertForMaskedLM model(mc);

  at::Generator gen = at::detail::createCPUGenerator(o.seed + 1);
  return time_training_steps(o, mlm_step_flops(o), *model, [&] {
    SyntheticBatch b = make_batch(o, gen);
    return model->forward(b.input_ids, b.attention_mask, b.token_type_ids, b.labels).loss;
  });
}

}  // namespace cotrain::tasks
