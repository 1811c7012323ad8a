// `cotrain bench --task erica` and its PyTorch twin (bench/torch_erica.py) time the
// same model and step: same parameter count (also checked against a count written
// out from the architecture), same FLOP formula, first-step losses where the
// initialisation puts them; and the synthetic micro-batch has the promised shape.
// No timing is asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "bench_test_util.h"
#include "cotrain/data/mlm_masking.h"
#include "cotrain/tasks/bench_erica.h"
#include "support/support.h"

namespace {

using cotrain::tasks::BenchOptions;

BenchOptions tiny(int64_t entities, double mask_prob) {
  BenchOptions o;
  o.task = "erica";
  o.layers = 2;
  o.hidden = 64;
  o.heads = 2;
  o.ffn = 128;
  o.vocab = 500;
  o.seq = 64;
  o.batch = 8;
  o.entities = entities;
  o.mask_prob = mask_prob;
  o.steps = 1;
  o.warmup = 0;
  o.threads = 1;
  return o;
}

std::vector<std::string> size_args(const BenchOptions& o) {
  return {"--layers", std::to_string(o.layers), "--hidden", std::to_string(o.hidden), "--heads",
          std::to_string(o.heads), "--ffn", std::to_string(o.ffn), "--vocab", std::to_string(o.vocab), "--seq",
          std::to_string(o.seq), "--batch", std::to_string(o.batch), "--entities", std::to_string(o.entities),
          "--mask-prob", std::to_string(o.mask_prob), "--steps", "1", "--warmup", "0", "--threads", "1"};
}

nlohmann::json run_cotrain_bench(const BenchOptions& o) { return cotrain::testing::cotrain_bench_json("erica", size_args(o)); }
nlohmann::json run_torch_bench(const BenchOptions& o) { return cotrain::testing::torch_bench_json("erica", size_args(o)); }

// BERT with its pooler and the MLM head (decoder tied to the word embeddings, own bias).
int64_t architecture_parameter_count(const BenchOptions& o) {
  const int64_t H = o.hidden, F = o.ffn, V = o.vocab, P = std::max<int64_t>(512, o.seq);
  const int64_t linear_HH = H * H + H, layer_norm = 2 * H;
  const int64_t embeddings = V * H + P * H + 2 * H + layer_norm;  // word, position, two token types
  const int64_t layer = 4 * linear_HH + layer_norm + (H * F + F) + (F * H + H) + layer_norm;
  const int64_t pooler = linear_HH, mlm_head = linear_HH + layer_norm + V;
  return embeddings + o.layers * layer + pooler + mlm_head;
}

// First-step losses under the initialisation (weights N(0, 0.02), zero biases):
//   mlm ~ log V: the logits (std about 0.02 * sqrt(H)) are nearly uniform;
//   ed, rd: InfoNCE at tau = 0.05 over cosines of pooled states of random tokens. The
//     cosines of different entities spread by about 1/sqrt(H) (1/8 here), which
//     divided by tau moves the loss a few nats from log(#candidates); a wrong
//     temperature (tau = 0.005) or a sign error leaves [0.05, log(n) + 6], and the
//     hard bound is log(n) + 2 / tau.
//   ED has at most K - 1 candidates, RD at most 65 (the positive and 64 negatives).
void expect_first_step_losses(const nlohmann::json& j, const BenchOptions& o, const std::string& who) {
  SCOPED_TRACE(who + ": " + j.dump());
  for (const char* key : {"loss", "loss_mlm", "loss_ed", "loss_rd"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    ASSERT_TRUE(std::isfinite(j[key].get<double>())) << key;
  }
  EXPECT_NEAR(j["loss_mlm"].get<double>(), std::log(static_cast<double>(o.vocab)), 0.3);
  const double ed = j["loss_ed"].get<double>(), rd = j["loss_rd"].get<double>();
  EXPECT_GT(ed, 0.05);
  EXPECT_LT(ed, std::log(static_cast<double>(o.entities - 1)) + 6);
  EXPECT_GT(rd, 0.05);  // 4 RD rows x 6 labelled pairs over 16 relation ids: labels repeat, anchors exist
  EXPECT_LT(rd, std::log(65.0) + 6);
  const double sum = j["loss_mlm"].get<double>() + ed + rd;
  EXPECT_NEAR(j["loss"].get<double>(), sum, 1e-4 * sum);  // all weights 1 (erica.md)
}

void expect_same_model(const BenchOptions& o) {
  const nlohmann::json ours = run_cotrain_bench(o), theirs = run_torch_bench(o);
  cotrain::testing::expect_same_counts(ours, theirs, architecture_parameter_count(o), "erica");
  const double flops = ours["gflop_per_step"].get<double>();
  EXPECT_NEAR(flops * 1e9, cotrain::tasks::erica_step_flops(o), 1e-6 * flops * 1e9);
  expect_first_step_losses(ours, o, "cotrain");
  expect_first_step_losses(theirs, o, "torch_erica.py");
}

TEST(BenchErica, SameModelAndStepAsThePyTorchTwin) { expect_same_model(tiny(6, 0.15)); }

// mask_prob 0.5 over 25 maskable tokens of an ED row (64 - 3 specials - 6 * 6 mention
// tokens) is 12.5: both must round half away from zero.
TEST(BenchErica, SameMaskCountsAtHalfwayRounding) {
  const BenchOptions o = tiny(6, 0.5);
  EXPECT_EQ(cotrain::tasks::erica_masked_per_row(o, true), 13);
  EXPECT_EQ(cotrain::tasks::erica_masked_per_row(o, false), 13);
  expect_same_model(o);
}

// The batch the bench feeds erica_losses: batch/2 ED rows then RD rows of exactly
// seq tokens, K entities of 3 two-token mentions inside the body, none masked,
// exactly the promised masked count per row, ED candidates without the head, RD
// anchors with a same-label positive and at most 64 negatives of other labels.
TEST(BenchErica, SyntheticBatchHasThePromisedShape) {
  const BenchOptions o = tiny(6, 0.15);
  cotrain::Rng rng(7);
  const auto batch = cotrain::tasks::erica_bench_batch(o, rng);
  ASSERT_EQ(batch.rows.size(), 8u);
  ASSERT_EQ(batch.entities.size(), 8u * 6);
  for (size_t r = 0; r < batch.rows.size(); ++r) {
    const auto& row = batch.rows[r];
    const bool ed = r < 4;
    EXPECT_EQ(row.kind, ed ? "ed" : "rd");
    ASSERT_EQ(row.ids.size(), 64u);
    std::set<int64_t> mention_tokens;
    for (const auto& e : batch.entities) {
      if (e.row != static_cast<int64_t>(r)) continue;
      ASSERT_EQ(e.mentions.size(), 3u);
      for (const auto& [b, end] : e.mentions) {
        EXPECT_EQ(end - b, 2);
        EXPECT_GE(b, ed ? 6 : 1);  // after [CLS] (and the ED prefix and its [SEP])
        EXPECT_LE(end, 63);        // before the last [SEP]
        for (int64_t p = b; p < end; ++p) {
          EXPECT_TRUE(mention_tokens.insert(p).second) << "row " << r << " position " << p << " in two mentions";
          EXPECT_EQ(row.labels[static_cast<size_t>(p)], cotrain::data::kIgnoreLabel);
        }
      }
    }
    EXPECT_EQ(mention_tokens.size(), 6u * 6);
    int64_t masked = 0;
    for (int64_t label : row.labels) masked += label != cotrain::data::kIgnoreLabel;
    EXPECT_EQ(masked, cotrain::tasks::erica_masked_per_row(o, ed));
    EXPECT_EQ(row.labels.front(), cotrain::data::kIgnoreLabel);
    EXPECT_EQ(row.labels.back(), cotrain::data::kIgnoreLabel);
  }
  ASSERT_EQ(batch.ed.size(), 4u);
  for (const auto& x : batch.ed) {
    EXPECT_EQ(batch.entities[static_cast<size_t>(x.query)].row, x.row);
    EXPECT_EQ(batch.entities[static_cast<size_t>(x.positive)].row, x.row);
    EXPECT_EQ(std::count(x.candidates.begin(), x.candidates.end(), x.query), 0);
    EXPECT_EQ(std::count(x.candidates.begin(), x.candidates.end(), x.positive), 1);
    EXPECT_EQ(x.candidates.size() + x.excluded.size(), 5u);
  }
  // 4 RD rows x (6 labelled + min(32, 30 - 6) NA) pairs.
  ASSERT_EQ(batch.rd_pairs.size(), 4u * (6 + 24));
  ASSERT_FALSE(batch.rd_anchors.empty());
  for (const auto& a : batch.rd_anchors) {
    const auto& anchor = batch.rd_pairs[static_cast<size_t>(a.anchor)];
    EXPECT_FALSE(anchor.na);
    EXPECT_EQ(batch.rd_pairs[static_cast<size_t>(a.positive)].label, anchor.label);
    EXPECT_LE(a.negatives.size(), 64u);
    for (int64_t n : a.negatives) EXPECT_NE(batch.rd_pairs[static_cast<size_t>(n)].label, anchor.label);
  }
}

TEST(BenchErica, RefusesImpossibleSizesNamingTheOption) {
  auto r = cotrain::testing::run_cotrain({"bench", "--task", "erica", "--seq", "64", "--entities", "10", "--steps", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--entities"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--seq >= 68"), std::string::npos) << r.output;
  r = cotrain::testing::run_cotrain({"bench", "--task", "erica", "--batch", "1", "--steps", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--batch"), std::string::npos) << r.output;
  r = cotrain::testing::run_cotrain({"bench", "--task", "erica", "--entities", "1", "--steps", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--entities"), std::string::npos) << r.output;
}

}  // namespace
