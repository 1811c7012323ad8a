// `cotrain bench --task unimo` and its PyTorch twin (bench/torch_unimo.py) time the
// same model and step: same parameter count (also checked against a count written
// out from the spec's architecture), same FLOP formula, and first-step losses where
// the initialisation puts them. No timing is asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "bench_test_util.h"
#include "support/support.h"

namespace {

struct Sizes {
  int64_t layers, hidden, heads, ffn, vocab, seq, regions, batch;
  double mask_prob;
};

std::vector<std::string> size_args(const Sizes& s) {
  return {"--layers", std::to_string(s.layers), "--hidden", std::to_string(s.hidden), "--heads", std::to_string(s.heads),
          "--ffn", std::to_string(s.ffn), "--vocab", std::to_string(s.vocab), "--seq", std::to_string(s.seq),
          "--regions", std::to_string(s.regions), "--batch", std::to_string(s.batch), "--mask-prob",
          std::to_string(s.mask_prob), "--steps", "1", "--warmup", "0", "--threads", "1"};
}

nlohmann::json run_cotrain_bench(const Sizes& s) { return cotrain::testing::cotrain_bench_json("unimo", size_args(s)); }
nlohmann::json run_torch_bench(const Sizes& s) { return cotrain::testing::torch_bench_json("unimo", size_args(s)); }

// Parameters of the model the spec describes (shared/spec/unimo.md), 2048-d region
// features and 1601 detector classes, the decoder tied to the word embeddings.
int64_t spec_parameter_count(const Sizes& s) {
  const int64_t H = s.hidden, F = s.ffn, V = s.vocab, D = 2048, C = 1601, P = std::max<int64_t>(512, s.seq);
  const int64_t linear_HH = H * H + H, layer_norm = 2 * H;
  const int64_t text_embedding = V * H + P * H + H + layer_norm;  // word, position, one token-type row
  const int64_t layer = 4 * linear_HH + layer_norm + (H * F + F) + (F * H + H) + layer_norm;
  const int64_t visual_embedding = (D * H + H) + (5 * H + H) + layer_norm;
  const int64_t pooled_heads = 2 * linear_HH + (H + 1);           // [IMG] and [CLS] FC, score FC
  const int64_t mlm_head = linear_HH + layer_norm + V;            // transform, decoder bias
  const int64_t region_head = linear_HH + layer_norm + (H * D + D) + (H * C + C);
  return text_embedding + s.layers * layer + visual_embedding + pooled_heads + mlm_head + region_head + 1;  // + 1/tau
}

// The first step's losses, as the initialisation (weights N(0, 0.02), zero biases)
// and the synthetic batch (features U[0, 1), class targets softmax of N(0, 1)
// logits) put them:
//   mlm      ~ log V: logits of std 0.02 * sqrt(H) are nearly uniform;
//   mrm_reg  ~ E[x^2] = 1/3 for the targets, plus the prediction's variance
//            H * 0.02^2 (a LayerNorm output times N(0, 0.02) weights);
//   mrm_cls  ~ KL(softmax(N(0, 1)) || uniform) = 1/2 for many classes, plus a
//            little for the non-uniform prediction;
//   cmcl     between 0 and log(2B - 1) + 2 / 0.07: an anchor has 2B - 1 cells whose
//            logits are cosines times 1/tau = 1/0.07. (It is near log(2B - 1) only
//            at widths where h[IMG] of different images are nearly one vector: at
//            H = 16 the cosines still spread enough to add 1.5.)
void expect_first_step_losses(const nlohmann::json& j, const Sizes& s, const std::string& who) {
  SCOPED_TRACE(who + ": " + j.dump());
  for (const char* key : {"loss", "loss_mlm", "loss_mrm_reg", "loss_mrm_cls", "loss_cmcl"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    ASSERT_TRUE(std::isfinite(j[key].get<double>())) << key;
  }
  const double prediction_var = static_cast<double>(s.hidden) * 0.02 * 0.02;
  EXPECT_NEAR(j["loss_mlm"].get<double>(), std::log(static_cast<double>(s.vocab)), 0.3);
  EXPECT_NEAR(j["loss_mrm_reg"].get<double>(), 1.0 / 3.0 + prediction_var, 0.05);
  EXPECT_NEAR(j["loss_mrm_cls"].get<double>(), 0.5 + prediction_var / 2, 0.08);
  EXPECT_GT(j["loss_cmcl"].get<double>(), 0.0);
  EXPECT_LT(j["loss_cmcl"].get<double>(), std::log(2.0 * static_cast<double>(s.batch) - 1) + 2 / 0.07);
  const double sum = j["loss_mlm"].get<double>() + j["loss_mrm_reg"].get<double>() +
                     j["loss_mrm_cls"].get<double>() + j["loss_cmcl"].get<double>();
  EXPECT_NEAR(j["loss"].get<double>(), sum, 1e-4 * sum);  // the unweighted sum
}

void expect_same_model(const Sizes& s) {
  const nlohmann::json ours = run_cotrain_bench(s), theirs = run_torch_bench(s);
  cotrain::testing::expect_same_counts(ours, theirs, spec_parameter_count(s), "unimo");
  expect_first_step_losses(ours, s, "cotrain");
  expect_first_step_losses(theirs, s, "torch_unimo.py");
}

TEST(BenchUnimo, SameModelAndStepAsThePyTorchTwin) {
  expect_same_model({2, 32, 2, 64, 100, 8, 5, 4, 0.15});
}

// mask_prob * batch * seq = 10.5 exactly: both round half away from zero.
TEST(BenchUnimo, SameMaskCountsAtHalfwayRounding) {
  expect_same_model({1, 16, 4, 48, 64, 7, 3, 3, 0.5});
}

TEST(BenchUnimo, RefusesImpossibleSizesNamingTheOption) {
  auto r = cotrain::testing::run_cotrain({"bench", "--task", "unimo", "--regions", "0", "--steps", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--regions"), std::string::npos) << r.output;
  r = cotrain::testing::run_cotrain({"bench", "--task", "unimo", "--hidden", "30", "--heads", "4", "--steps", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--heads"), std::string::npos) << r.output;
}

}  // namespace
