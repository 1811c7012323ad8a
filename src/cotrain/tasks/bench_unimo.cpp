#include "cotrain/tasks/bench_unimo.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "cotrain/core/error.h"
#include "cotrain/models/unimo/unimo_model.h"
#include "cotrain/tasks/unimo_batch.h"
#include "cotrain/tasks/unimo_losses.h"
#include "cotrain/tasks/bench_training.h"

namespace cotrain::tasks {

namespace {
// The spec's region masking rate, as the task's config has it.
double region_mask_rate() { return UnimoConfig{}.region_mask_prob; }

// Products of one Transformer pass over `batch` sequences of `length` tokens.
double encoder_flops(const BenchOptions& o, int64_t length) {
  const double N = static_cast<double>(o.batch * length), H = static_cast<double>(o.hidden),
               F = static_cast<double>(o.ffn), L = static_cast<double>(length);
  const double per_layer = 2 * N * H * 3 * H   // query, key, value
                           + 2 * N * H * H     // attention output
                           + 2 * 2 * N * H * F // feed-forward in and out
                           + 2 * 2 * N * L * H;  // scores and weighted sum, all heads
  return static_cast<double>(o.layers) * per_layer;
}
}  // namespace

int64_t unimo_masked_tokens(const BenchOptions& o) {
  return std::max<int64_t>(1, std::llround(o.mask_prob * static_cast<double>(o.batch * o.seq)));
}

int64_t unimo_masked_regions(const BenchOptions& o) {
  return std::max<int64_t>(1, std::llround(region_mask_rate() * static_cast<double>(o.batch * o.regions)));
}

double unimo_step_flops(const BenchOptions& o) {
  const double B = static_cast<double>(o.batch), H = static_cast<double>(o.hidden), V = static_cast<double>(o.vocab),
               D = static_cast<double>(kUnimoBenchFeatureDim), C = static_cast<double>(kUnimoBenchClasses),
               image_tokens = static_cast<double>(o.batch * (1 + o.regions)),
               Mt = static_cast<double>(unimo_masked_tokens(o)), Mr = static_cast<double>(unimo_masked_regions(o));
  const double encoders = encoder_flops(o, 1 + o.regions + o.seq) + encoder_flops(o, 1 + o.regions) +
                          encoder_flops(o, o.seq);
  const double mlm_head = 2 * Mt * H * H + 2 * Mt * H * V;
  const double region_head = 2 * Mr * H * H + 2 * Mr * H * D + 2 * Mr * H * C;
  const double similarity = 2 * B * B * H;
  const double visual_embedding = 2 * (2 * image_tokens * D * H + 2 * image_tokens * 5 * H);  // two passes
  return 3.0 * (encoders + mlm_head + region_head + similarity) + 2.0 * visual_embedding;
}

namespace {

// One synthetic micro-batch of pairs, shaped as UnimoTask::next_batch shapes it
// (unimo_batch.h): uniform token ids over the non-special part of the vocabulary,
// no padding, exactly unimo_masked_tokens() caption positions replaced by a mask id
// and predicted; region features uniform in [0, 1) (non-negative like pooled ReLU
// features), boxes inside the image, exactly unimo_masked_regions() regions zeroed
// and predicted; class targets softmax of standard normal logits. CMCL sees the
// unmasked captions and images.
UnimoBatch make_batch(const BenchOptions& o, at::Generator& gen, const objectives::CmclCells& cells) {
  const int64_t B = o.batch, T = o.seq, R = o.regions, D = kUnimoBenchFeatureDim, C = kUnimoBenchClasses;
  const int64_t low = std::min<int64_t>(5, o.vocab - 1), mask_id = std::max<int64_t>(0, low - 1);
  UnimoBatch b;
  b.examples = B;

  at::Tensor ids = at::randint(low, o.vocab, {B, T}, gen, at::kLong);
  at::Tensor token_positions = at::randperm(B * T, gen, at::kLong).slice(0, 0, unimo_masked_tokens(o));
  at::Tensor labels = at::full({B * T}, -100, at::kLong);
  labels.index_put_({token_positions}, ids.reshape({-1}).index_select(0, token_positions));
  at::Tensor masked_ids = ids.reshape({-1}).clone();
  masked_ids.index_fill_(0, token_positions, mask_id);
  at::Tensor text_mask = at::ones({B, T}, at::kLong);
  b.pair_text = {masked_ids.view({B, T}), text_mask, labels.view({B, T})};
  b.cmcl_texts = {ids, text_mask, {}};

  at::Tensor features = at::rand({B, R, D}, gen);
  at::Tensor corner = at::rand({B, R, 2}, gen) * 0.5;
  at::Tensor size = at::rand({B, R, 2}, gen) * 0.4 + 0.1;
  at::Tensor area = size.select(2, 0) * size.select(2, 1);
  at::Tensor boxes = at::cat({corner, corner + size, area.unsqueeze(2)}, 2);  // x1, y1, x2, y2, area (normalised)
  at::Tensor region_positions = at::randperm(B * R, gen, at::kLong).slice(0, 0, unimo_masked_regions(o));
  at::Tensor masked = at::zeros({B * R}, at::kLong).index_fill_(0, region_positions, 1).view({B, R});
  at::Tensor region_mask = at::ones({B, R}, at::kLong);
  at::Tensor classes = at::softmax(at::randn({B, R, C}, gen), -1);

  b.pair_image.features = features * (1 - masked).unsqueeze(2).to(at::kFloat);
  b.pair_image.boxes = boxes;
  b.pair_image.region_mask = region_mask;
  b.pair_image.masked = masked;
  b.pair_image.target_features = features;
  b.pair_image.target_classes = classes;
  b.cmcl_images.features = features;
  b.cmcl_images.boxes = boxes;
  b.cmcl_images.region_mask = region_mask;
  b.cells = cells;
  return b;
}

// The task's in-batch cells for B distinct pairs: anchor a has the positive (a, a)
// and, for every other pair b, the negatives (image a, text b) and (image b, text a).
objectives::CmclCells in_batch_cells(int64_t B) {
  const int64_t K = 1 + 2 * (B - 1);
  objectives::CmclCells cells;
  cells.image = at::empty({B, K}, at::kLong);
  cells.text = at::empty({B, K}, at::kLong);
  cells.kind = at::full({B, K}, static_cast<int64_t>(objectives::kCmclNegative), at::kLong);
  auto image = cells.image.accessor<int64_t, 2>();
  auto text = cells.text.accessor<int64_t, 2>();
  for (int64_t a = 0; a < B; ++a) {
    int64_t k = 0;
    image[a][k] = a;
    text[a][k++] = a;
    for (int64_t other = 0; other < B; ++other) {
      if (other == a) continue;
      image[a][k] = a;
      text[a][k++] = other;
      image[a][k] = other;
      text[a][k++] = a;
    }
  }
  cells.kind.select(1, 0).fill_(static_cast<int64_t>(objectives::kCmclPositive));
  return cells;
}

}  // namespace

BenchResult bench_unimo(const BenchOptions& o) {
  validate_bench_options(o);
  if (o.regions <= 0) fail("bench: --regions must be positive for --task unimo (got {}): every example is an image-text pair", o.regions);
  at::manual_seed(o.seed);
  ModelConfig mc = bench_bert_config(o);
  mc.type_vocab_size = 1;  // UNIMO has no segments (as make_unimo_task sets it)
  models::UnimoGeometry geometry;
  geometry.region_feature_dim = kUnimoBenchFeatureDim;
  geometry.num_region_classes = kUnimoBenchClasses;
  const UnimoConfig uc{};  // the task's defaults: all four losses, weights 1, learned temperature
  geometry.temperature_init = uc.temperature_init;
  geometry.max_logit_scale = uc.max_logit_scale;
  // Trained as UnimoTask::parameters(): everything, logit_scale included (learned).
  models::UnimoModel model(mc, geometry);

  const objectives::CmclCells cells = in_batch_cells(o.batch);
  at::Generator gen = at::detail::createCPUGenerator(o.seed + 1);
  std::map<std::string, at::Tensor> last;
  BenchResult result = time_training_steps(o, unimo_step_flops(o), *model, [&] {
    UnimoLossOutput out = unimo_losses(*model, make_batch(o, gen, cells), uc);
    last.clear();
    for (const auto& [name, value] : out.terms) last[name] = value.detach();
    return out.terms.at("total");
  });
  for (const auto& [name, value] : last) {
    if (name == "total") {
      result.has_loss = true;
      result.loss = value.item<double>();
    } else if (name != "logit_scale") {  // a diagnostic, not a loss
      result.loss_terms[name] = value.item<double>();
    }
  }
  return result;
}

}  // namespace cotrain::tasks
