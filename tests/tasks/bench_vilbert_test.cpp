// `cotrain bench --task vilbert` and its PyTorch twin (bench/torch_vilbert.py) time
// the same model and step: the same parameter count (both checked against a count
// written out from vilbert.md's architecture with the bench's size mapping), the
// same FLOP formula, and first-step losses where the initialisation puts them; our
// step gives the same losses with the fast paths on and off. No timing is asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "bench_test_util.h"
#include "support/support.h"

namespace {

struct VilbertSizes {
  int64_t layers, hidden, heads, ffn, vocab, seq, regions, batch;
  double mask_prob;
};

std::vector<std::string> vilbert_size_args(const VilbertSizes& s) {
  return {"--layers", std::to_string(s.layers), "--hidden", std::to_string(s.hidden), "--heads", std::to_string(s.heads),
          "--ffn", std::to_string(s.ffn), "--vocab", std::to_string(s.vocab), "--seq", std::to_string(s.seq),
          "--regions", std::to_string(s.regions), "--batch", std::to_string(s.batch), "--mask-prob",
          std::to_string(s.mask_prob), "--threads", "1"};
}

nlohmann::json cotrain_vilbert_bench(const VilbertSizes& s, const std::vector<std::string>& extra) {
  std::vector<std::string> args = vilbert_size_args(s);
  args.insert(args.end(), extra.begin(), extra.end());
  return cotrain::testing::cotrain_bench_json("vilbert", args);
}

nlohmann::json torch_vilbert_bench(const VilbertSizes& s) {
  std::vector<std::string> args = vilbert_size_args(s);
  args.insert(args.end(), {"--steps", "1", "--warmup", "0"});
  return cotrain::testing::torch_bench_json("vilbert", args);
}

// vilbert.md's pretraining model with the bench's mapping: L text layers (width H,
// FFN F), L visual layers (width H, FFN H), L Co-TRMs (width H), 2048-d region
// features with 5-d locations, 1601 classes, 2 token types, the MLM decoder tied to
// the word embeddings (its own bias only).
int64_t vilbert_spec_parameter_count(const VilbertSizes& s) {
  const int64_t H = s.hidden, F = s.ffn, V = s.vocab, D = 2048, C = 1601, P = std::max<int64_t>(512, s.seq);
  const int64_t linear_HH = H * H + H, layer_norm = 2 * H;
  const int64_t text_ffn = (H * F + F) + (F * H + H) + layer_norm, vision_ffn = 2 * linear_HH + layer_norm;
  const int64_t text_embedding = V * H + P * H + 2 * H + layer_norm;
  const int64_t image_embedding = (D * H + H) + (5 * H + H) + layer_norm;
  const int64_t self_attention = 4 * linear_HH + layer_norm;  // query, key, value, output dense
  const int64_t text_layer = self_attention + text_ffn, vision_layer = self_attention + vision_ffn;
  const int64_t co_layer = 6 * linear_HH + 2 * linear_HH + 2 * layer_norm + text_ffn + vision_ffn;
  const int64_t pooling = 2 * linear_HH + (2 * H + 2);                       // two poolers, alignment head
  const int64_t mlm_head = linear_HH + layer_norm + V;                       // transform, decoder bias
  const int64_t region_head = linear_HH + layer_norm + (H * C + C);
  return text_embedding + image_embedding + s.layers * (text_layer + vision_layer + co_layer) + pooling + mlm_head +
         region_head;
}

// The first step's losses, from the initialisation (weights N(0, 0.02), zero biases)
// and the synthetic batch (class targets softmax of N(0, 1) logits):
//   mlm       ~ log V: logits of std 0.02 * sqrt(H) (LayerNorm output times the
//             tied N(0, 0.02) embeddings) are nearly uniform;
//   region    ~ KL(softmax(N(0, 1)) || uniform) = 1/2 for many classes, plus about
//             half the prediction's variance H * 0.02^2;
//   alignment ~ log 2: the fused vector is a product of two ReLU'd pooled vectors
//             of std ~0.02 * sqrt(H), so the N(0, 0.02) head's logits are ~1e-4.
void expect_first_step_losses(const nlohmann::json& j, const VilbertSizes& s, const std::string& who) {
  SCOPED_TRACE(who + ": " + j.dump());
  for (const char* key : {"loss", "loss_mlm", "loss_region", "loss_alignment"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    ASSERT_TRUE(std::isfinite(j[key].get<double>())) << key;
  }
  const double prediction_var = static_cast<double>(s.hidden) * 0.02 * 0.02;
  EXPECT_NEAR(j["loss_mlm"].get<double>(), std::log(static_cast<double>(s.vocab)), 0.25);
  EXPECT_NEAR(j["loss_region"].get<double>(), 0.5 + prediction_var / 2, 0.08);
  EXPECT_NEAR(j["loss_alignment"].get<double>(), std::log(2.0), 0.01);
  const double sum =
      j["loss_mlm"].get<double>() + j["loss_region"].get<double>() + j["loss_alignment"].get<double>();
  EXPECT_NEAR(j["loss"].get<double>(), sum, 1e-5 * sum);  // weights 1
}

void expect_same_model(const VilbertSizes& s) {
  const nlohmann::json ours = cotrain_vilbert_bench(s, {"--steps", "1", "--warmup", "0"}), theirs = torch_vilbert_bench(s);
  cotrain::testing::expect_same_counts(ours, theirs, vilbert_spec_parameter_count(s), "vilbert");
  expect_first_step_losses(ours, s, "cotrain");
  expect_first_step_losses(theirs, s, "torch_vilbert.py");
}

TEST(BenchVilbert, SameModelAndStepAsThePyTorchTwin) {
  expect_same_model({2, 32, 2, 64, 100, 8, 5, 4, 0.15});
}

// mask_prob * batch * seq = 10.5 and 0.15 * batch * regions = 1.35 (one layer, one
// Co-TRM): both sides round halves up, and at least one region is masked.
TEST(BenchVilbert, SameCountsAtHalfwayRoundingAndOneLayer) {
  expect_same_model({1, 16, 4, 48, 64, 7, 3, 3, 0.5});
}

// Without dropout (whose masks differ by path) two steps give the same losses with
// the fast paths (oneDNN products, fused kernels and AdamW) on and off: the second
// step's loss also compares the first update.
TEST(BenchVilbert, FastPathsOnAndOffGiveTheSameLosses) {
  const VilbertSizes s{2, 32, 2, 64, 100, 8, 5, 4, 0.15};
  const std::vector<std::string> two_steps = {"--steps", "2", "--warmup", "0", "--dropout", "0"};
  std::vector<std::string> on = two_steps, off = two_steps;
  on.insert(on.end(), {"--fast-paths", "on"});
  off.insert(off.end(), {"--fast-paths", "off"});
  const nlohmann::json a = cotrain_vilbert_bench(s, on), b = cotrain_vilbert_bench(s, off);
  for (const char* key : {"loss", "loss_mlm", "loss_region", "loss_alignment"}) {
    ASSERT_TRUE(a.contains(key) && b.contains(key)) << a.dump() << "\n" << b.dump();
    EXPECT_NEAR(a[key].get<double>(), b[key].get<double>(), 1e-4) << key;
  }
}

TEST(BenchVilbert, RefusesImpossibleSizesNamingTheOption) {
  auto r = cotrain::testing::run_cotrain({"bench", "--task", "vilbert", "--regions", "0", "--steps", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--regions"), std::string::npos) << r.output;
  r = cotrain::testing::run_cotrain({"bench", "--task", "vilbert", "--hidden", "30", "--heads", "4", "--steps", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--heads"), std::string::npos) << r.output;
  auto py = cotrain::testing::run_shell("/usr/bin/python3 '" +
                                        cotrain::testing::source_path("bench/torch_vilbert.py") +
                                        "' --regions 0 --steps 1");
  EXPECT_NE(py.exit_code, 0) << py.output;
  EXPECT_NE(py.output.find("--regions"), std::string::npos) << py.output;
}

}  // namespace
