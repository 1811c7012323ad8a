#include "cotrain/tasks/bench_vilbert.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "cotrain/core/error.h"
#include "cotrain/models/vilbert/vilbert.h"
#include "cotrain/objectives/alignment.h"
#include "cotrain/tasks/vilbert_batch.h"
#include "cotrain/tasks/bench_training.h"

namespace cotrain::tasks {

void vilbert_bench_configs(const BenchOptions& o, ModelConfig& text, VilbertConfig& v) {
  text = bench_bert_config(o);
  v = VilbertConfig{};
  v.v_feature_size = kVilbertBenchFeatureDim;
  v.v_target_size = kVilbertBenchClasses;
  v.v_hidden_size = o.hidden;
  v.v_num_hidden_layers = o.layers;
  v.v_num_attention_heads = o.heads;
  v.v_intermediate_size = o.hidden;  // the reference's narrow visual feed-forward
  v.v_hidden_dropout_prob = o.dropout;
  v.v_attention_probs_dropout_prob = o.dropout;
  v.bi_hidden_size = o.hidden;
  v.bi_num_attention_heads = o.heads;
  v.t_biattention_id.clear();
  v.v_biattention_id.clear();
  for (int64_t k = 0; k < o.layers; ++k) {  // Co-TRM k after text layer k and before visual layer k
    v.t_biattention_id.push_back(k + 1);
    v.v_biattention_id.push_back(k);
  }
  v.region_objective = "kl";
  v.max_regions = o.regions;
}

int64_t vilbert_predicted_positions(const BenchOptions& o) {
  return std::max<int64_t>(1, std::llround(o.mask_prob * static_cast<double>(o.batch * o.seq)));
}

int64_t vilbert_masked_regions(const BenchOptions& o) {
  return std::max<int64_t>(1, std::llround(VilbertConfig{}.region_mask_prob * static_cast<double>(o.batch * o.regions)));
}

double vilbert_step_flops(const BenchOptions& o) {
  const double B = static_cast<double>(o.batch), T = static_cast<double>(o.seq), R = static_cast<double>(o.regions + 1),
               H = static_cast<double>(o.hidden), F = static_cast<double>(o.ffn), V = static_cast<double>(o.vocab),
               D = static_cast<double>(kVilbertBenchFeatureDim), C = static_cast<double>(kVilbertBenchClasses),
               M = static_cast<double>(vilbert_predicted_positions(o));
  const double Nt = B * T, Nv = B * R, Fv = H;  // text rows, visual rows (IMG included), visual FFN
  const double embed = 2 * Nv * D * H + 2 * Nv * 5 * H;
  auto trm = [&](double N, double L, double ffn) {  // self-attention layer over N rows of length-L sequences
    return 2 * N * H * 3 * H + 2 * N * H * H + 2 * 2 * N * H * ffn + 2 * 2 * N * L * H;
  };
  const double co = 2 * (Nt + Nv) * H * 3 * H   // queries, keys, values of both streams
                    + 2 * 2 * Nt * R * H         // text queries over the regions: scores, weighted sum
                    + 2 * 2 * Nv * T * H         // region queries over the text
                    + 2 * (Nt + Nv) * H * H      // output denses
                    + 2 * 2 * Nt * H * F + 2 * 2 * Nv * H * Fv;  // feed-forwards
  const double heads = 2 * 2 * B * H * H + 2 * B * H * 2  // poolers, alignment
                       + 2 * M * H * H + 2 * M * H * V     // MLM head at the masked positions
                       + 2 * Nv * H * H + 2 * Nv * H * C;  // region head at every visual row
  const double layers = static_cast<double>(o.layers) * (trm(Nt, T, F) + trm(Nv, R, Fv) + co);
  return 3.0 * (embed + layers + heads);
}

void validate_vilbert_bench_options(const BenchOptions& o) {
  validate_bench_options(o);
  if (o.regions <= 0) fail("bench: --regions must be positive for --task vilbert (got {})", o.regions);
}

namespace {
// A batch as VilbertTask::next_batch builds one, with uniform random contents:
// - captions of `seq` ids (no padding), with probability swap_prob replaced by
//   another row's caption (alignment label kSwapped), then exactly M positions
//   given a label (uniform non-special ids, as bench_mlm);
// - `regions` regions of uniform [0, 1) features and random boxes after the IMG
//   token (mean feature before masking, location [0, 0, 1, 1, 1]); exactly K real
//   regions chosen for prediction, each zeroed with probability 0.9; targets are
//   softmax(N(0, 1)) class distributions.
VilbertBatch make_batch(const BenchOptions& o, const VilbertConfig& vc, at::Generator& gen) {
  const int64_t B = o.batch, T = o.seq, R = o.regions, D = vc.v_feature_size, C = vc.v_target_size;
  const int64_t low = std::min<int64_t>(5, o.vocab - 1);
  VilbertBatch b;
  at::Tensor ids = at::randint(low, o.vocab, {B, T}, gen, at::kLong);
  at::Tensor swapped = at::bernoulli(at::full({B}, B > 1 ? vc.swap_prob : 0.0), gen).to(at::kLong);
  if (B > 1) {
    at::Tensor other = (at::arange(B, at::kLong) + at::randint(1, B, {B}, gen, at::kLong)).remainder(B);
    ids = at::where(swapped.unsqueeze(1).to(at::kBool), ids.index_select(0, other), ids);
  }
  b.input_ids = ids;
  b.alignment_labels = swapped * objectives::kSwapped + (1 - swapped) * objectives::kAligned;
  b.attention_mask = at::ones({B, T}, at::kLong);
  b.token_type_ids = at::zeros({B, T}, at::kLong);
  at::Tensor positions = at::randperm(B * T, gen, at::kLong).slice(0, 0, vilbert_predicted_positions(o));
  at::Tensor labels = at::full({B * T}, -100, at::kLong);
  labels.index_put_({positions}, at::randint(low, o.vocab, {positions.size(0)}, gen, at::kLong));
  b.mlm_labels = labels.view({B, T});

  at::Tensor features = at::rand({B, R, D}, gen);
  at::Tensor img = features.mean(1, /*keepdim=*/true);
  at::Tensor chosen = at::zeros({B * R}, at::kLong);
  chosen.index_fill_(0, at::randperm(B * R, gen, at::kLong).slice(0, 0, vilbert_masked_regions(o)), 1);
  chosen = chosen.view({B, R});
  at::Tensor zeroed = chosen * at::bernoulli(at::full({B, R}, 0.9), gen).to(at::kLong);
  features = features * (1 - zeroed).unsqueeze(2).to(at::kFloat);
  at::Tensor corner = at::rand({B, R, 2}, gen) * 0.5, size = at::rand({B, R, 2}, gen) * 0.5 + 0.01;
  at::Tensor area = size.select(2, 0) * size.select(2, 1);
  at::Tensor boxes = at::cat({corner, corner + size, area.unsqueeze(2)}, 2);
  at::Tensor whole = at::tensor({0.f, 0.f, 1.f, 1.f, 1.f}).view({1, 1, 5}).expand({B, 1, 5});
  b.features = at::cat({img, features}, 1);
  b.locations = at::cat({whole, boxes}, 1);
  b.image_mask = at::ones({B, R + 1}, at::kLong);
  b.region_masked = at::cat({at::zeros({B, 1}, at::kLong), chosen}, 1);
  b.region_targets = at::softmax(at::randn({B, R + 1, C}, gen), -1);
  return b;
}
}  // namespace

BenchResult bench_vilbert(const BenchOptions& o) {
  validate_vilbert_bench_options(o);
  at::manual_seed(o.seed);
  ModelConfig mc;
  VilbertConfig vc;
  vilbert_bench_configs(o, mc, vc);
  // Trained as VilbertTask::parameters() without a BERT-initialised text stream: lr scale 1.
  models::VilbertForPretraining model(mc, vc);

  at::Generator gen = at::detail::createCPUGenerator(o.seed + 1);
  VilbertLosses last;
  BenchResult result = time_training_steps(o, vilbert_step_flops(o), *model, [&] {
    VilbertBatch b = make_batch(o, vc, gen);
    VilbertLosses l = vilbert_losses(run_vilbert(*model, b), b, vc);
    last = {l.mlm.detach(), l.region.detach(), l.alignment.detach(), l.total.detach()};
    return l.total;
  });
  result.has_loss = true;
  result.loss = last.total.item<double>();
  result.loss_terms = {{"mlm", last.mlm.item<double>()},
                       {"region", last.region.item<double>()},
                       {"alignment", last.alignment.item<double>()}};
  return result;
}

}  // namespace cotrain::tasks
