// Golden tests (llm.c style) of UNIMO's model and objectives against the independent
// PyTorch twin (tests/reference/unimo_twin.py, written from unimo.md): the twin makes
// a random UNIMO folder and a batch JSON with text-only, image-only, pair and CMCL
// parts, and writes its float64 losses, the pair forward's hidden states and "mul"
// fusion scores, and every parameter's gradient of total + mean(pair score). We load
// the same folder and batch, run forward and backward in float32 and compare.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdlib>
#include <functional>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cotrain/io/safetensors.h"
#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/tasks/unimo_losses.h"
#include "models/golden_compare.h"
#include "support/support.h"

using namespace cotrain;
using cotrain::testing::GoldenTable;

namespace {

struct TwinCase {
  std::string type = "roberta";
  int layers = 2, hidden = 32, heads = 4, classes = 7, seed = 0;
  double std = 0.2;
  std::string id() const { return fmt::format("{}-h{}-n{}-c{}-s{}", type, hidden, heads, classes, seed); }
};

// Relative tolerances (of max |expected|), float32 against float64; measured worst
// relative errors are printed with COTRAIN_GOLDEN_TABLE=1.
constexpr double kLossRel = 2e-6;
constexpr double kHiddenRel = 5e-6;
constexpr double kGradRel = 3e-5;

struct GoldenRun {
  GoldenTable table;
  nlohmann::json twin_losses;
};

GoldenRun run_golden(const TwinCase& c, const std::function<void(models::UnimoModelImpl&)>& tamper = {}) {
  const std::string dir = cotrain::testing::scratch_dir("unimo-golden-" + c.id());
  const std::string model_dir = dir + "/model", batch_path = dir + "/batch.json", out_dir = dir + "/out";
  cotrain::testing::run_reference(
      "unimo_twin.py", {"model", "--out", model_dir, "--type", c.type, "--layers", std::to_string(c.layers), "--hidden",
                        std::to_string(c.hidden), "--heads", std::to_string(c.heads), "--classes",
                        std::to_string(c.classes), "--seed", std::to_string(c.seed), "--std", std::to_string(c.std)});
  cotrain::testing::run_reference("unimo_twin.py",
                                  {"batch", "--model", model_dir, "--out", batch_path, "--seed", std::to_string(c.seed)});
  GoldenRun run;
  run.twin_losses = nlohmann::json::parse(cotrain::testing::run_reference(
      "unimo_twin.py", {"loss", "--model", model_dir, "--batch", batch_path, "--out", out_dir, "--probe"}));

  models::UnimoFolder folder = models::load_unimo_folder(model_dir);
  auto& model = *folder.model;
  model.eval();  // config dropout is 0.1: eval() must switch it off
  if (tamper) tamper(model);
  tasks::UnimoBatch batch =
      tasks::unimo_batch_from_json(nlohmann::json::parse(cotrain::testing::read_file(batch_path)));
  UnimoConfig config;
  auto out = tasks::unimo_losses(model, batch, config);
  (out.terms.at("total") + out.pair_score.mean()).backward();

  io::TensorMap expected = io::load_safetensors(out_dir + "/outputs.safetensors").tensors;
  size_t twin_terms = 0;
  for (const auto& [key, value] : expected) {
    if (key.rfind("loss.", 0) != 0) continue;
    ++twin_terms;
    const std::string name = key.substr(5);
    if (!out.terms.count(name)) {
      ADD_FAILURE() << "no loss term " << name;
      continue;
    }
    run.table.compare(key, out.terms.at(name).reshape({1}), value, kLossRel);
  }
  EXPECT_EQ(out.terms.size(), twin_terms) << "cotrain computes terms the twin does not";
  run.table.compare("pair_hidden", out.pair_hidden, expected.at("pair_hidden"), kHiddenRel);
  run.table.compare("pair_score", out.pair_score, expected.at("pair_score"), kHiddenRel);
  size_t grads = 0;
  for (const auto& p : model.named_parameters()) {
    auto it = expected.find("grad." + p.key());
    if (it == expected.end()) {
      ADD_FAILURE() << "the twin wrote no gradient for " << p.key();
      continue;
    }
    const std::string& k = p.key();
    const std::string key_bias = "attention.self.key.bias";
    if (k.size() > key_bias.size() && k.compare(k.size() - key_bias.size(), key_bias.size(), key_bias) == 0) {
      // Exactly zero (softmax ignores a per-query shift): rounding noise on both sides.
      const std::string weight = "grad." + k.substr(0, k.size() - 4) + "weight";
      run.table.compare_scaled("grad." + k, p.value().grad(), it->second, kGradRel,
                               expected.at(weight).abs().max().item<double>());
    } else {
      run.table.compare("grad." + k, p.value().grad(), it->second, kGradRel);
    }
    ++grads;
  }
  size_t twin_grads = 0;
  for (const auto& [name, t] : expected) twin_grads += name.rfind("grad.", 0) == 0 ? 1 : 0;
  EXPECT_EQ(grads, twin_grads);
  return run;
}

void expect_golden(const TwinCase& c) {
  GoldenRun run = run_golden(c);
  EXPECT_EQ(run.table.failures(), 0) << c.id() << "\n" << run.table.format(true);
  for (const auto& r : run.table.rows)
    if (r.name.find("key.bias") == std::string::npos) EXPECT_GT(r.scale, 0.0) << r.name << " is trivially zero";
  if (std::getenv("COTRAIN_GOLDEN_TABLE")) std::cout << c.id() << "\n" << run.table.format(false);
}

}  // namespace

TEST(UnimoGolden, RobertaFourHeads) { expect_golden({"roberta", 2, 32, 4, 7, 0, 0.2}); }
TEST(UnimoGolden, BertOneHeadThreeLayers) { expect_golden({"bert", 3, 24, 1, 5, 3, 0.1}); }
TEST(UnimoGolden, NoClassHead) { expect_golden({"roberta", 1, 16, 2, 0, 5, 0.2}); }

// The tolerances catch a 1e-3 change of one visual-embedding weight.
TEST(UnimoGolden, PerturbedWeightIsCaught) {
  GoldenRun run = run_golden({"roberta", 2, 32, 4, 7, 0, 0.2}, [](models::UnimoModelImpl& m) {
    torch::NoGradGuard no_grad;
    m.visual_embeddings->box_dense->weight[3][2] += 1e-3;
  });
  ASSERT_NE(run.table.find("pair_hidden"), nullptr);
  EXPECT_FALSE(run.table.find("pair_hidden")->ok);
  EXPECT_GT(run.table.failures(), 10) << run.table.format(false);
}
