// Golden tests of the document-level RE head and loss: `cotrain batch --task docred`
// on the hand-made fixture, then the PyTorch twin (tests/reference/docred_twin.py,
// written from erica.md) and our model compute the BCE loss, the logits and every
// parameter gradient (encoder and head) on that batch; each tensor is compared with
// its own tolerance. A perturbed weight must be caught, and the twin's rule check
// must refuse a batch with the wrong number of NA pairs.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <functional>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cotrain/io/safetensors.h"
#include "cotrain/tasks/docred_task.h"
#include "erica_tensor_table.h"
#include "erica_test_util.h"

using namespace cotrain;
using namespace cotrain::tasks;
using GoldenTable = cotrain::testing::erica::Table;

namespace {

// float32 against the twin's float64, relative to each tensor's max |expected|.
constexpr double kLossRel = 1e-6;
constexpr double kGradRel = 2e-5;

struct Fixture {
  std::string dir, model, batch_path;
  nlohmann::json batch;
};

Config docred_fixture_config() {
  Config c = cotrain::testing::erica_fixture_config();
  c.trainer.batch_size = 4;  // all four fixture documents in the first batch
  return c;
}

// A random tiny encoder, fine-tuning's fresh head saved beside it, and the first batch.
Fixture make_fixture(const std::string& name, Config config, uint64_t model_seed) {
  Fixture f;
  f.dir = cotrain::testing::scratch_dir("docred-golden-" + name);
  const std::string encoder = f.dir + "/encoder";
  cotrain::testing::write_erica_test_model(encoder, model_seed);
  at::manual_seed(model_seed);
  {
    Config c = config;
    auto task = make_docred_task(c, TaskInputs{encoder});
    auto& head = static_cast<DocredTask&>(*task).model()->head;
    // Spread the head's weights so that every term matters, with logits of a few
    // units (the bilinear form sums 148 x 148 products): no saturated sigmoid.
    torch::NoGradGuard no_grad;
    for (auto& p : head->named_parameters())
      p.value().normal_(0.0, p.key() == "bilinear.weight" ? 0.01 : p.key() == "distance.weight" ? 0.5 : 0.2);
    f.model = f.dir + "/model";
    task->save_model(f.model);
  }
  f.batch = write_docred_batch(config, TaskInputs{f.model});
  f.batch_path = f.dir + "/batch.json";
  cotrain::testing::write_file(f.batch_path, f.batch.dump());
  return f;
}

GoldenTable run_golden(const Fixture& f, const std::function<void(DocredReModel&)>& tamper = {}) {
  const std::string out = f.dir + "/twin.safetensors";
  cotrain::testing::run_reference("docred_twin.py", {"--model", f.model, "--batch", f.batch_path, "--out", out});
  io::TensorMap expected = io::load_safetensors(out).tensors;

  DocredModelFolder folder = load_docred_model(f.model);
  folder.model->eval();
  if (tamper) tamper(folder.model);
  DocredBatch batch = docred_batch_from_json(f.batch);
  at::Tensor logits = folder.model->forward(batch);
  at::Tensor loss = docred_loss(logits, batch.pairs);
  loss.backward();

  GoldenTable table;
  table.compare("loss", loss.reshape({1}), expected.at("loss"), kLossRel);
  table.compare("logits", logits, expected.at("logits"), kLossRel * 10);
  size_t grads = 0;
  for (const auto& p : folder.model->named_parameters()) {
    std::string name = p.key();
    if (name.rfind("encoder.", 0) == 0) name = name.substr(8);
    auto it = expected.find("grad." + name);
    if (it == expected.end()) {
      ADD_FAILURE() << "the twin wrote no gradient for " << name;
      continue;
    }
    const std::string key_bias = "attention.self.key.bias";
    if (name.size() > key_bias.size() && name.compare(name.size() - key_bias.size(), key_bias.size(), key_bias) == 0) {
      // Zero in exact arithmetic (softmax ignores a per-query shift): rounding noise
      // on both sides, measured against the key weight's gradient.
      const std::string weight = "grad." + name.substr(0, name.size() - 4) + "weight";
      table.compare("grad." + name, p.value().grad(), it->second, kGradRel, expected.at(weight).abs().max().item<double>());
    } else {
      table.compare("grad." + name, p.value().grad(), it->second, kGradRel);
    }
    ++grads;
  }
  size_t twin_grads = 0;
  for (const auto& [name, t] : expected) twin_grads += name.rfind("grad.", 0) == 0 ? 1 : 0;
  EXPECT_EQ(grads, twin_grads);
  return table;
}

void expect_golden(const std::string& name, const Config& config, uint64_t model_seed) {
  Fixture f = make_fixture(name, config, model_seed);
  GoldenTable table = run_golden(f);
  EXPECT_EQ(table.failures(), 0) << name << ": tensors outside tolerance\n" << table.format(true);
  // Every parameter the loss reaches has a non-zero gradient (the pooler and the MLM
  // head take no part and must be zero on both sides).
  for (const auto& r : table.rows) {
    const bool unused = r.name.find("pooler") != std::string::npos || r.name.rfind("grad.cls.", 0) == 0;
    if (unused)
      EXPECT_EQ(r.scale, 0.0) << r.name;
    else
      EXPECT_GT(r.scale, 0.0) << r.name;
  }
  std::cout << name << ": worst relative error: loss " << table.worst_relative("loss") << ", logits "
            << table.worst_relative("logits") << ", gradients " << table.worst_relative("grad.") << "\n";
}

}  // namespace

// The fixture batch holds NA pairs (capped by what a document has, and not), a pair
// with two relations, and both signs of distance.
TEST(DocredGolden, FixtureBatchCoversTheCases) {
  Fixture f = make_fixture("coverage", docred_fixture_config(), 1);
  const auto& pairs = f.batch["pairs"];
  int na = 0, multi = 0, below = 0, above = 0;
  for (const auto& p : pairs) {
    na += p["classes"] == nlohmann::json::array({0}) ? 1 : 0;
    multi += p["classes"].size() > 1 ? 1 : 0;
    below += p["dist_ht"].get<int>() < 10 ? 1 : 0;
    above += p["dist_ht"].get<int>() > 10 ? 1 : 0;
  }
  EXPECT_EQ(f.batch["input_ids"].size(), 4u);
  EXPECT_GT(na, 0);
  EXPECT_GT(multi, 0);
  EXPECT_GT(below, 0);
  EXPECT_GT(above, 0);
}

TEST(DocredGolden, LossAndGradientsMatchTheTwin) { expect_golden("ratio3", docred_fixture_config(), 1); }

// NA ratio 1 (no document runs out of NA pairs), another seed and model.
TEST(DocredGolden, OtherRatioSeedAndModel) {
  Config c = docred_fixture_config();
  c.docred.na_ratio = 1.0;
  c.trainer.seed = 9;
  expect_golden("ratio1", c, 2);
}

// The tolerances are tight enough to fail: 1e-3 on one head weight and on one
// encoder weight is caught.
TEST(DocredGolden, PerturbedWeightIsCaught) {
  Fixture f = make_fixture("perturbed", docred_fixture_config(), 1);
  for (const std::string victim : {"head.bilinear.weight", "encoder.bert.encoder.layer.1.attention.self.value.weight"}) {
    GoldenTable table = run_golden(f, [&](DocredReModel& model) {
      torch::NoGradGuard no_grad;
      model->named_parameters()[victim].view({-1})[7] += 1e-3;
    });
    ASSERT_NE(table.find("loss"), nullptr);
    EXPECT_FALSE(table.find("loss")->ok) << victim << "\n" << table.format(false);
    EXPECT_GT(table.failures(), 3) << victim << "\n" << table.format(false);
  }
}

// The twin's rule check is live: one NA pair fewer is refused, and so is a wrong
// distance index.
TEST(DocredGolden, TwinRefusesABatchThatBreaksTheRules) {
  Fixture f = make_fixture("broken", docred_fixture_config(), 1);
  auto refuses = [&](nlohmann::json b, const std::string& what) {
    const std::string path = f.dir + "/broken.json";
    cotrain::testing::write_file(path, b.dump());
    auto r = cotrain::testing::run_shell("/usr/bin/python3 " + cotrain::testing::source_path("tests/reference/docred_twin.py") +
                                         " --model " + f.model + " --batch " + path);
    EXPECT_EQ(r.exit_code, 3) << what << ": " << r.output;
    EXPECT_NE(r.output.find("breaks the rules"), std::string::npos) << r.output;
  };
  nlohmann::json fewer = f.batch;
  auto& pairs = fewer["pairs"];
  for (size_t i = pairs.size(); i-- > 0;)
    if (pairs[i]["classes"] == nlohmann::json::array({0})) {
      pairs.erase(i);
      break;
    }
  refuses(fewer, "one NA pair fewer");
  nlohmann::json distance = f.batch;
  distance["pairs"][0]["dist_ht"] = 20 - distance["pairs"][0]["dist_ht"].get<int>() == distance["pairs"][0]["dist_ht"].get<int>()
                                        ? 11
                                        : 20 - distance["pairs"][0]["dist_ht"].get<int>();
  refuses(distance, "a wrong distance index");
}
