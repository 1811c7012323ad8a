// The seq2seq objective against the independent PyTorch twin
// (tests/reference/unimo_seq2seq_twin.py, written from unimo.md): the twin writes a
// random batch (text rows [CLS] source [SEP] target, caption rows after an image, a
// pair row with source and target after an image), its float64 attention masks, loss,
// the pair forward's hidden states and every parameter's gradient; we recompute them
// in float32. Negative checks: full (bidirectional) attention, and a perturbed weight,
// are caught by the same tolerances.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdlib>
#include <functional>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cotrain/io/safetensors.h"
#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/models/unimo/unimo_seq2seq.h"
#include "cotrain/tasks/unimo_seq2seq_losses.h"
#include "models/golden_compare.h"
#include "support/support.h"

using namespace cotrain;
using cotrain::testing::GoldenTable;

namespace {

constexpr double kLossRel = 2e-6;
constexpr double kHiddenRel = 5e-6;
constexpr double kGradRel = 3e-5;

struct Case {
  std::string type;
  int layers, hidden, heads, seed;
};

struct Prepared {
  std::string model_dir, batch_path;
  io::TensorMap expected;
};

Prepared prepare(const Case& c) {
  const std::string dir = cotrain::testing::scratch_dir(fmt::format("s2s-golden-{}-{}", c.type, c.seed));
  Prepared p{dir + "/model", dir + "/batch.json", {}};
  cotrain::testing::run_reference("unimo_twin.py", {"model", "--out", p.model_dir, "--type", c.type, "--layers",
                                                    std::to_string(c.layers), "--hidden", std::to_string(c.hidden),
                                                    "--heads", std::to_string(c.heads), "--seed", std::to_string(c.seed)});
  cotrain::testing::run_reference("unimo_seq2seq_twin.py", {"batch", "--model", p.model_dir, "--out", p.batch_path,
                                                            "--seed", std::to_string(c.seed)});
  cotrain::testing::run_reference("unimo_seq2seq_twin.py",
                                  {"loss", "--model", p.model_dir, "--batch", p.batch_path, "--out", dir + "/out"});
  p.expected = io::load_safetensors(dir + "/out/outputs.safetensors").tensors;
  return p;
}

// Losses, hidden states and gradients of cotrain against the twin. `loss_of` computes
// the loss (the real objective, or a tampered one for the negative checks).
GoldenTable compare(const Prepared& p, const std::function<void(models::UnimoModelImpl&)>& tamper = {},
                    bool full_attention = false) {
  models::UnimoFolder folder = models::load_unimo_folder(p.model_dir);
  auto& model = *folder.model;
  model.eval();
  if (tamper) tamper(model);
  tasks::Seq2seqBatch batch = tasks::seq2seq_batch_from_json(
      nlohmann::json::parse(cotrain::testing::read_file(p.batch_path)), folder.config.vocab_size);
  if (full_attention) {  // every position a source position: bidirectional attention
    batch.text.target.zero_();
    batch.pair.target.zero_();
  }
  auto out = tasks::seq2seq_losses(model, batch);
  out.terms.at("total").backward();
  GoldenTable table;
  table.compare("loss.seq2seq", out.terms.at("seq2seq").reshape({1}), p.expected.at("loss.seq2seq"), kLossRel);
  // Real positions only: padding rows differ by convention (BERT numbers padded
  // positions on, we give them 0) and are never attended to.
  const int64_t B = batch.pair.input_ids.size(0);
  at::Tensor real = at::cat({at::ones({B, 1}, at::kLong), batch.pair_image.region_mask, batch.pair.attention_mask}, 1)
                        .unsqueeze(-1)
                        .to(at::kFloat);
  table.compare("pair_hidden", out.pair_hidden * real, p.expected.at("pair_hidden") * real, kHiddenRel);
  for (const auto& item : model.named_parameters()) {
    const std::string& k = item.key();
    const at::Tensor& expected = p.expected.at("grad." + k);
    if (k.find("attention.self.key.bias") != std::string::npos) {
      // Exactly zero (softmax ignores a per-query shift): rounding noise on both sides.
      table.compare_scaled("grad." + k, item.value().grad(), expected, kGradRel,
                           p.expected.at("grad." + k.substr(0, k.size() - 4) + "weight").abs().max().item<double>());
    } else {
      table.compare("grad." + k, item.value().grad(), expected, kGradRel);
    }
  }
  return table;
}

// Heads the seq2seq objective does not use (their gradients are exactly zero).
bool unused_by_seq2seq(const std::string& row) {
  for (const char* head : {"grad.image_pooler", "grad.text_pooler", "grad.score", "grad.region_head", "grad.logit_scale"})
    if (row.rfind(head, 0) == 0) return true;
  return false;
}

void expect_twin(const Case& c) {
  Prepared p = prepare(c);
  // The attention rule itself, exactly.
  tasks::Seq2seqBatch batch = tasks::seq2seq_batch_from_json(
      nlohmann::json::parse(cotrain::testing::read_file(p.batch_path)), 1 << 20);
  at::Tensor text_attend = models::seq2seq_attention(batch.text.attention_mask, batch.text.target);
  EXPECT_TRUE(text_attend.equal(p.expected.at("attend.text").to(at::kLong)));
  const int64_t B = batch.pair.input_ids.size(0), N = batch.pair_image.features.size(1);
  at::Tensor pair_keys = at::cat({at::ones({B, 1}, at::kLong), batch.pair_image.region_mask, batch.pair.attention_mask}, 1);
  at::Tensor pair_target = at::cat({at::zeros({B, 1 + N}, at::kLong), batch.pair.target}, 1);
  EXPECT_TRUE(models::seq2seq_attention(pair_keys, pair_target).equal(p.expected.at("attend.pair").to(at::kLong)));

  GoldenTable table = compare(p);
  EXPECT_EQ(table.failures(), 0) << table.format(true);
  for (const auto& r : table.rows)
    if (r.name.find("key.bias") == std::string::npos && !unused_by_seq2seq(r.name))
      EXPECT_GT(r.scale, 0.0) << r.name << " is trivially zero";
  if (std::getenv("COTRAIN_GOLDEN_TABLE")) std::cout << c.type << "\n" << table.format(false);
}

TEST(UnimoSeq2seqGolden, BertTwoHeads) { expect_twin({"bert", 2, 24, 2, 1}); }
TEST(UnimoSeq2seqGolden, RobertaFourHeads) { expect_twin({"roberta", 2, 32, 4, 0}); }

TEST(UnimoSeq2seqGolden, BidirectionalAttentionIsCaught) {
  Prepared p = prepare({"roberta", 2, 32, 4, 0});
  GoldenTable table = compare(p, {}, /*full_attention=*/true);
  ASSERT_NE(table.find("loss.seq2seq"), nullptr);
  EXPECT_FALSE(table.find("loss.seq2seq")->ok) << table.format(false);
  EXPECT_GT(table.failures(), 10);
}

TEST(UnimoSeq2seqGolden, PerturbedWeightIsCaught) {
  Prepared p = prepare({"roberta", 2, 32, 4, 0});
  GoldenTable table = compare(p, [](models::UnimoModelImpl& m) {
    torch::NoGradGuard no_grad;
    m.visual_embeddings->box_dense->weight[3][2] += 1e-3;
  });
  ASSERT_NE(table.find("pair_hidden"), nullptr);
  EXPECT_FALSE(table.find("pair_hidden")->ok) << table.format(false);
}

}  // namespace
