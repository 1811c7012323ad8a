// Golden tests of ViLBERT's fine-tuning heads (vilbert.md "Downstream heads"): the
// retrieval score head, the VQA answer MLP and the grounding region head, each with
// its loss, against an independent PyTorch twin (tests/reference/vilbert_ft_twin.py,
// float64). We load the twin's folder (body, pretraining heads to ignore, the task
// head), run forward + backward in float32 with dropout off, and compare the head
// outputs, the loss and the gradient of every parameter. A perturbed head weight and
// a perturbed target must be caught; the `cotrain loss` JSON path gives the same loss.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdlib>
#include <functional>
#include <iostream>

#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/models/vilbert/vilbert_heads.h"
#include "cotrain/models/vilbert/vilbert_weights.h"
#include "cotrain/tasks/mlm_task.h"
#include "cotrain/tasks/vilbert_ft_common.h"
#include "cotrain/tasks/vilbert_ft_grounding.h"
#include "cotrain/tasks/vilbert_ft_losses.h"
#include "cotrain/tasks/vilbert_ft_retrieval.h"
#include "cotrain/tasks/vilbert_ft_vqa.h"
#include "models/golden_compare.h"
#include "support/support.h"

using namespace cotrain;
using cotrain::testing::GoldenTable;

namespace {

// Relative tolerances (of each tensor's max |expected|), float32 against float64.
// Measured worst cases over the cases below (COTRAIN_GOLDEN_TABLE=1 prints the
// tables): head outputs 4.3e-7, losses 1.2e-7, gradients 4.1e-6 (a Co-TRM query
// bias); each tolerance is 5-20x its measurement.
constexpr double kOutRel = 1e-5;
constexpr double kLossRel = 2e-6;
constexpr double kGradRel = 2e-5;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct TwinRun {
  std::string dir;
  io::TensorMap in, expected;
  models::VilbertForTasks model{nullptr};
  tasks::FtInputs inputs;
};

models::VilbertHeadSpec spec_for(const std::string& head, int64_t answers) {
  models::VilbertHeadSpec s;
  if (head == "retrieval") s.score = true;
  if (head == "vqa") s.answers = answers;
  if (head == "grounding") s.regions = true;
  return s;
}

TwinRun run_twin(const std::string& head, const std::vector<std::string>& extra = {}) {
  TwinRun r;
  r.dir = cotrain::testing::scratch_dir("vilbert-ft-golden-" + head);
  std::vector<std::string> args{"--out", r.dir, "--head", head};
  args.insert(args.end(), extra.begin(), extra.end());
  cotrain::testing::run_reference("vilbert_ft_twin.py", args);
  r.in = io::load_safetensors(r.dir + "/inputs.safetensors").tensors;
  r.expected = io::load_safetensors(r.dir + "/outputs.safetensors").tensors;
  models::VilbertFolder folder = models::read_vilbert_folder(r.dir);
  const int64_t answers = head == "vqa" ? r.in.at("answer_scores").size(1) : 0;
  r.model = models::VilbertForTasks(folder.text, folder.vilbert, spec_for(head, answers));
  auto load = models::load_vilbert_for_tasks(*r.model, folder.weights, r.dir);
  EXPECT_EQ(load.heads_loaded.size(), head == "vqa" ? 4u : 2u);
  EXPECT_FALSE(load.score_from_alignment);  // the folder has its own score head
  r.model->eval();
  r.inputs.input_ids = r.in.at("input_ids");
  r.inputs.token_type_ids = r.in.at("token_type_ids");
  r.inputs.attention_mask = r.in.at("attention_mask");
  r.inputs.features = r.in.at("features");
  r.inputs.locations = r.in.at("locations");
  r.inputs.image_mask = r.in.at("image_mask");
  return r;
}

// Loss of the head on the twin's inputs and targets (targets may be tampered with).
at::Tensor head_loss(const std::string& head, TwinRun& r, const models::VilbertForTasksImpl::Output& out,
                     GoldenTable& table) {
  if (head == "retrieval") {
    table.compare("score", out.score, r.expected.at("score"), kOutRel);
    return tasks::retrieval_loss(out.score);
  }
  if (head == "vqa") {
    table.compare("answer_logits", out.answer_logits, r.expected.at("answer_logits"), kOutRel);
    return tasks::answer_bce_loss(out.answer_logits, r.in.at("answer_scores"));
  }
  table.compare("region_logits", out.region_logits, r.expected.at("region_logits"), kOutRel);
  return tasks::region_bce_loss(out.region_logits, r.in.at("region_targets"), r.in.at("region_weights"));
}

GoldenTable compare_with_twin(const std::string& head, const std::vector<std::string>& extra = {},
                              const std::function<void(TwinRun&)>& tamper = {}) {
  TwinRun r = run_twin(head, extra);
  if (tamper) tamper(r);
  auto out = tasks::run_ft(*r.model, r.inputs);
  GoldenTable table;
  at::Tensor loss = head_loss(head, r, out, table);
  loss.backward();
  table.compare("loss", loss.reshape({1}), r.expected.at("loss"), kLossRel);
  size_t grads = 0;
  for (const auto& p : r.model->named_parameters()) {
    auto it = r.expected.find("grad." + p.key());
    if (it == r.expected.end()) {
      ADD_FAILURE() << "the twin wrote no gradient for " << p.key();
      continue;
    }
    // Key biases only shift every score of a query, and the retrieval score's bias every
    // option of an example (softmax ignores both): their exact gradient is zero, so
    // measure the noise against the matching weight's gradient.
    const bool key_bias = ends_with(p.key(), ".self.key.bias") || ends_with(p.key(), ".key1.bias") ||
                          ends_with(p.key(), ".key2.bias") || p.key() == "vil_logit.bias";
    if (key_bias) {
      const std::string weight = "grad." + p.key().substr(0, p.key().size() - 4) + "weight";
      table.compare_scaled("grad." + p.key(), p.value().grad(), it->second, kGradRel,
                           r.expected.at(weight).abs().max().item<double>());
    } else {
      table.compare("grad." + p.key(), p.value().grad(), it->second, kGradRel);
    }
    ++grads;
  }
  size_t twin_grads = 0;
  for (const auto& [name, t] : r.expected) twin_grads += name.rfind("grad.", 0) == 0 ? 1 : 0;
  EXPECT_EQ(grads, twin_grads);
  return table;
}

void expect_golden(const std::string& head, const std::vector<std::string>& extra = {}) {
  GoldenTable table = compare_with_twin(head, extra);
  EXPECT_EQ(table.failures(), 0) << head << ": tensors outside tolerance\n" << table.format(true);
  // All-zero gradients must be exactly zero here too (tolerance 0); they are only
  // allowed where the head cannot reach: grounding reads the visual stream, so the
  // poolers, the text layers after the last Co-TRM and that Co-TRM's text blocks get
  // none. The word embeddings always reach every head (through co-attention).
  int zero = 0;
  for (const auto& r : table.rows) {
    zero += r.scale == 0.0 ? 1 : 0;
    if (head != "grounding") EXPECT_GT(r.scale, 0.0) << r.name << " is all zeros: the comparison proves nothing";
  }
  EXPECT_LT(zero, static_cast<int>(table.rows.size()) / 3) << table.format(false);
  ASSERT_NE(table.find("grad.bert.embeddings.word_embeddings.weight"), nullptr);
  EXPECT_GT(table.find("grad.bert.embeddings.word_embeddings.weight")->scale, 0.0);
  if (std::getenv("COTRAIN_GOLDEN_TABLE")) std::cout << head << "\n" << table.format(false);
}

}  // namespace

TEST(VilbertFtGolden, RetrievalFourWaySoftmax) { expect_golden("retrieval"); }

TEST(VilbertFtGolden, RetrievalSixLayerPlacementSumFusion) {
  expect_golden("retrieval", {"--layers", "8", "--v-layers", "6", "--t-ids", "2,3,4,5,6,7", "--v-ids", "0,1,2,3,4,5",
                              "--fusion", "sum", "--seed", "3"});
}

TEST(VilbertFtGolden, VqaAnswerMlpSoftBce) { expect_golden("vqa"); }

TEST(VilbertFtGolden, GroundingRegionBce) { expect_golden("grounding", {"--seed", "4"}); }

// Negative checks: 1e-3 on one head weight, or one VQA soft score changed by 0.1, is
// outside the tolerances.
TEST(VilbertFtGolden, PerturbedHeadWeightIsCaught) {
  GoldenTable table = compare_with_twin("vqa", {}, [](TwinRun& r) {
    torch::NoGradGuard no_grad;
    r.model->named_parameters()["vil_prediction.decoder.bias"][1] += 1e-3;
  });
  ASSERT_NE(table.find("loss"), nullptr);
  EXPECT_FALSE(table.find("answer_logits")->ok) << table.format(false);
  EXPECT_FALSE(table.find("loss")->ok) << table.format(false);
  EXPECT_GT(table.failures(), 5) << table.format(false);
}

TEST(VilbertFtGolden, PerturbedTargetIsCaught) {
  GoldenTable table = compare_with_twin("vqa", {}, [](TwinRun& r) {
    at::Tensor s = r.in.at("answer_scores").clone();
    s[0][0] = s[0][0].item<float>() > 0.5f ? s[0][0] - 0.1 : s[0][0] + 0.1;
    r.in.at("answer_scores") = s;
  });
  EXPECT_TRUE(table.find("answer_logits")->ok);
  EXPECT_FALSE(table.find("loss")->ok) << table.format(false);
  EXPECT_FALSE(table.find("grad.vil_prediction.decoder.bias")->ok) << table.format(false);
}

// Our IoU targets (grounding_targets) equal the twin's on its pixel boxes.
TEST(VilbertFtGolden, GroundingTargetsFromBoxesMatchTwin) {
  TwinRun r = run_twin("grounding", {"--seed", "4"});
  at::Tensor boxes = r.in.at("region_boxes"), ref = r.in.at("referred_box").contiguous();
  at::Tensor want = r.in.at("region_targets"), want_w = r.in.at("region_weights");
  const int64_t B = boxes.size(0), R = want.size(1);
  int64_t positives = 0, negatives = 0;
  for (int64_t b = 0; b < B; ++b) {
    tasks::FtImageRows rows;
    rows.count = r.inputs.image_mask[b].sum().item<int64_t>();
    at::Tensor real = boxes[b].narrow(0, 0, rows.count - 1).contiguous();
    rows.boxes.assign(real.data_ptr<float>(), real.data_ptr<float>() + real.numel());
    std::vector<float> t(R, 0.f), w(R, 0.f), iou(R, 0.f);
    tasks::grounding_targets(rows, ref[b].data_ptr<float>(), 0.5, t.data(), w.data(), iou.data());
    for (int64_t i = 0; i < R; ++i) {
      EXPECT_EQ(t[i], want[b][i].item<float>()) << b << "," << i << " iou " << iou[i];
      EXPECT_EQ(w[i], want_w[b][i].item<float>()) << b << "," << i;
      positives += t[i] > 0 ? 1 : 0;
      negatives += (w[i] > 0 && t[i] == 0) ? 1 : 0;
    }
  }
  EXPECT_GT(positives, 0);
  EXPECT_GT(negatives, 0);
}

// `cotrain loss --task vilbert-*`: the twin's folder and inputs as a batch JSON give
// the twin's loss; a batch of the wrong shape is an error naming the key.
namespace {
nlohmann::json batch_json(const TwinRun& r) {
  nlohmann::json j;
  tasks::ft_inputs_to_json(r.inputs, j);
  return j;
}
}  // namespace

TEST(VilbertFtGolden, BatchJsonLossMatchesTwin) {
  Config config;
  {
    TwinRun r = run_twin("retrieval");
    nlohmann::json j = batch_json(r);
    auto l = tasks::vilbert_retrieval_batch_loss(config, tasks::TaskInputs{r.dir}, j);
    const double want = r.expected.at("loss").item<double>();
    EXPECT_NEAR(l.at("total").get<double>(), want, kLossRel * std::abs(want));
  }
  {
    TwinRun r = run_twin("vqa");
    nlohmann::json j = batch_json(r);
    j["answer_scores"] = tasks::float_tensor_json(r.in.at("answer_scores"));
    auto l = tasks::vilbert_vqa_batch_loss(config, tasks::TaskInputs{r.dir}, j);
    const double want = r.expected.at("loss").item<double>();
    EXPECT_NEAR(l.at("total").get<double>(), want, kLossRel * std::abs(want));
    j["answer_scores"]["shape"][1] = 3;
    j["answer_scores"]["data"] = std::vector<double>(3 * r.inputs.input_ids.size(0), 0.0);
    try {
      tasks::vilbert_vqa_batch_loss(config, tasks::TaskInputs{r.dir}, j);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("answer_scores"), std::string::npos) << e.what();
    }
  }
  {
    TwinRun r = run_twin("grounding", {"--seed", "4"});
    nlohmann::json j = batch_json(r);
    j["region_targets"] = tasks::float_tensor_json(r.in.at("region_targets"));
    j["region_weights"] = tasks::float_tensor_json(r.in.at("region_weights"));
    auto l = tasks::vilbert_grounding_batch_loss(config, tasks::TaskInputs{r.dir}, j);
    const double want = r.expected.at("loss").item<double>();
    EXPECT_NEAR(l.at("total").get<double>(), want, kLossRel * std::abs(want));
    j["features"]["shape"][2] = 5;
    try {
      tasks::vilbert_grounding_batch_loss(config, tasks::TaskInputs{r.dir}, j);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("features"), std::string::npos) << e.what();
    }
  }
}

// A pretrained folder (no score head) starts the score head as the alignment head's
// logit difference, so scores rank pairs as softmax(alignment)[aligned] does.
TEST(VilbertFtGolden, ScoreHeadStartsFromAlignmentHead) {
  const std::string dir = cotrain::testing::scratch_dir("vilbert-ft-from-pretrain");
  cotrain::testing::run_reference("vilbert_twin.py", {"--out", dir});
  models::VilbertFolder folder = models::read_vilbert_folder(dir);
  models::VilbertHeadSpec spec;
  spec.score = true;
  models::VilbertForTasks model(folder.text, folder.vilbert, spec);
  auto load = models::load_vilbert_for_tasks(*model, folder.weights, dir);
  EXPECT_TRUE(load.score_from_alignment);
  EXPECT_TRUE(load.heads_loaded.empty());
  model->eval();
  io::TensorMap in = io::load_safetensors(dir + "/inputs.safetensors").tensors;
  io::TensorMap expected = io::load_safetensors(dir + "/outputs.safetensors").tensors;
  tasks::FtInputs inputs{in.at("input_ids"), in.at("token_type_ids"), in.at("attention_mask"),
                         in.at("features"),  in.at("locations"),      in.at("image_mask")};
  // The twin's masked-region inputs are what it ran its alignment head on.
  at::Tensor score = tasks::run_ft(*model, inputs).score;
  at::Tensor logits = expected.at("alignment_logits");
  at::Tensor want = logits.select(1, 0) - logits.select(1, 1);
  EXPECT_LT((score - want).abs().max().item<double>(), 1e-5 * want.abs().max().item<double>());
  // A body tensor missing from the folder is named.
  io::TensorMap broken = folder.weights;
  broken.erase("bert.encoder.c_layer.0.biattention.query1.weight");
  models::VilbertForTasks other(folder.text, folder.vilbert, spec);
  try {
    models::load_vilbert_for_tasks(*other, broken, dir);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c_layer.0.biattention.query1.weight"), std::string::npos) << e.what();
  }
}
