// Golden tests of ERICA's losses: `cotrain batch --task erica` semantics on the
// hand-made fixture, then the PyTorch twin (tests/reference/erica_twin.py, written
// from erica.md) and our task code compute MLM, ED, RD and every parameter gradient
// on that batch; each tensor is compared with its own tolerance.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "cotrain/io/safetensors.h"
#include "cotrain/models/bert/text_model.h"
#include "cotrain/tasks/erica_task.h"
#include "erica_test_util.h"
#include "erica_tensor_table.h"

using namespace cotrain;
using namespace cotrain::tasks;
using GoldenTable = cotrain::testing::erica::Table;

namespace {

// float32 against the twin's float64, relative to each tensor's max |expected|.
// Measured worst over the two cases below: losses 1.3e-7, gradients 2.0e-6; each
// tolerance is about 10x that.
constexpr double kLossRel = 1e-6;
constexpr double kGradRel = 2e-5;

struct Fixture {
  std::string dir, model, batch_path;
  nlohmann::json batch;
};

Fixture make_fixture(const std::string& name, Config config, uint64_t model_seed) {
  Fixture f;
  f.dir = cotrain::testing::scratch_dir("erica-golden-" + name);
  f.model = f.dir + "/model";
  cotrain::testing::write_erica_test_model(f.model, model_seed);
  f.batch = write_erica_batch(config, TaskInputs{f.model});
  f.batch_path = f.dir + "/batch.json";
  cotrain::testing::write_file(f.batch_path, f.batch.dump());
  return f;
}

// Runs the twin on the fixture and our code on the same batch; `tamper` may change
// our model first.
GoldenTable run_golden(const Fixture& f, const std::function<void(models::BertForMaskedLM&)>& tamper = {}) {
  const std::string out = f.dir + "/twin.safetensors";
  cotrain::testing::run_reference("erica_twin.py", {"--model", f.model, "--batch", f.batch_path, "--out", out});
  io::TensorMap expected = io::load_safetensors(out).tensors;

  models::TextModel tm = models::load_text_model(f.model);
  tm.model->eval();
  if (tamper) tamper(tm.model);
  EricaBatch batch = erica_batch_from_json(f.batch);
  EricaConfig objective = erica_objective_of(f.batch, EricaConfig{});
  EricaLosses losses = erica_losses(tm.model, batch, objective);
  losses.total.backward();

  GoldenTable table;
  table.compare("loss.mlm", losses.mlm.reshape({1}), expected.at("loss.mlm"), kLossRel);
  table.compare("loss.ed", losses.ed.reshape({1}), expected.at("loss.ed"), kLossRel);
  table.compare("loss.rd", losses.rd.reshape({1}), expected.at("loss.rd"), kLossRel);
  table.compare("loss.total", losses.total.reshape({1}), expected.at("loss.total"), kLossRel);
  size_t grads = 0;
  for (const auto& p : tm.model->named_parameters()) {
    auto it = expected.find("grad." + p.key());
    if (it == expected.end()) {
      ADD_FAILURE() << "the twin wrote no gradient for " << p.key();
      continue;
    }
    const std::string& n = p.key();
    const std::string key_bias = "attention.self.key.bias";
    if (n.size() > key_bias.size() && n.compare(n.size() - key_bias.size(), key_bias.size(), key_bias) == 0) {
      // Exactly zero in exact arithmetic (softmax ignores a per-query shift): both
      // sides hold rounding noise, measured against the key weight's gradient.
      const std::string weight = "grad." + n.substr(0, n.size() - 4) + "weight";
      table.compare("grad." + n, p.value().grad(), it->second, kGradRel,
                    expected.at(weight).abs().max().item<double>());
    } else {
      table.compare("grad." + n, p.value().grad(), it->second, kGradRel);
    }
    ++grads;
  }
  size_t twin_grads = 0;
  for (const auto& [name, t] : expected) twin_grads += name.rfind("grad.", 0) == 0 ? 1 : 0;
  EXPECT_EQ(grads, twin_grads);
  return table;
}

// The batch of the fixture config holds every case erica.md names.
void expect_batch_covers_the_rules(const nlohmann::json& b) {
  const auto& pairs = b["rd"]["pairs"];
  const auto& anchors = b["rd"]["anchors"];
  std::set<int64_t> anchored;
  for (const auto& a : anchors) anchored.insert(a["anchor"].get<int64_t>());
  int64_t na = 0, leftovers = 0, shared_head_pairs = 0, capped = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (pairs[i]["na"].get<bool>()) {
      ++na;
      continue;
    }
    if (!anchored.count(static_cast<int64_t>(i))) ++leftovers;
    for (size_t j = i + 1; j < pairs.size(); ++j)
      if (!pairs[j]["na"].get<bool>() && pairs[j]["row"] == pairs[i]["row"] && pairs[j]["head"] == pairs[i]["head"] &&
          pairs[j]["label"] != pairs[i]["label"])
        ++shared_head_pairs;
  }
  for (const auto& a : anchors) capped += a["negatives"].size() == 6 ? 1 : 0;
  EXPECT_GE(b["rows"].size(), 8u) << "several documents";
  EXPECT_GT(na, 0) << "NA pairs";
  EXPECT_GT(leftovers, 0) << "an odd leftover in a label group";
  EXPECT_GT(shared_head_pairs, 0) << "same-document pairs sharing a head";
  EXPECT_GT(capped, 0) << "an anchor whose negatives hit max_negatives";
  bool two_gold_tails = false;
  for (const auto& x : b["ed"]) two_gold_tails |= !x["excluded"].empty();
  EXPECT_TRUE(two_gold_tails) << "an ED example with another gold tail of (h, r)";
  // Same-document pairs that share an entity are never negatives of each other.
  for (const auto& a : anchors) {
    const auto& anchor = pairs[a["anchor"].get<size_t>()];
    for (const auto& n : a["negatives"]) {
      const auto& neg = pairs[n.get<size_t>()];
      if (neg["row"] != anchor["row"]) continue;
      EXPECT_NE(neg["head"], anchor["head"]);
      EXPECT_NE(neg["tail"], anchor["tail"]);
      EXPECT_NE(neg["head"], anchor["tail"]);
      EXPECT_NE(neg["tail"], anchor["head"]);
    }
  }
}

void expect_golden(const std::string& name, const Config& config, uint64_t model_seed) {
  Fixture f = make_fixture(name, config, model_seed);
  GoldenTable table = run_golden(f);
  EXPECT_EQ(table.failures(), 0) << name << ": tensors outside tolerance\n" << table.format(true);
  for (const auto& r : table.rows)
    if (r.name.find("pooler") == std::string::npos) EXPECT_GT(r.scale, 0.0) << r.name;
  std::cout << name << ": worst relative error: losses " << table.worst_relative("loss.") << ", gradients "
            << table.worst_relative("grad.") << "\n";
  if (std::getenv("COTRAIN_GOLDEN_TABLE")) std::cout << name << "\n" << table.format(false);
}

}  // namespace

TEST(EricaGolden, FixtureBatchCoversTheRules) {
  Config config = cotrain::testing::erica_fixture_config();
  Fixture f = make_fixture("coverage", config, 1);
  expect_batch_covers_the_rules(f.batch);
}

TEST(EricaGolden, AllThreeLosses) { expect_golden("all", cotrain::testing::erica_fixture_config(), 1); }

// Unequal weights, another temperature and seed, intra-sentence pairs only.
TEST(EricaGolden, WeightsTemperatureIntra) {
  Config config = cotrain::testing::erica_fixture_config();
  config.erica.ed_weight = 0.7;
  config.erica.rd_weight = 1.3;
  config.erica.mlm_weight = 0.5;
  config.erica.temperature = 0.1;
  config.erica.rd_pairs = "intra";
  config.trainer.seed = 17;
  expect_golden("weights", config, 2);
}

// The tolerances are tight enough to fail: a 1e-3 change of one weight is caught.
TEST(EricaGolden, PerturbedWeightIsCaught) {
  Config config = cotrain::testing::erica_fixture_config();
  Fixture f = make_fixture("perturbed", config, 1);
  const std::string victim = "bert.encoder.layer.1.attention.self.value.weight";
  GoldenTable table = run_golden(f, [&](models::BertForMaskedLM& model) {
    torch::NoGradGuard no_grad;
    model->named_parameters()[victim][3][5] += 1e-3;
  });
  const std::string report = table.format(false);
  ASSERT_NE(table.find("loss.rd"), nullptr);
  EXPECT_FALSE(table.find("loss.rd")->ok) << report;
  EXPECT_FALSE(table.find("loss.ed")->ok) << report;
  EXPECT_GT(table.failures(), 20) << report;
}

// The twin's rule check is live: a batch whose negatives include a same-document
// pair sharing the anchor's head is refused.
TEST(EricaGolden, TwinRefusesABatchThatBreaksTheRules) {
  Config config = cotrain::testing::erica_fixture_config();
  Fixture f = make_fixture("broken", config, 1);
  nlohmann::json b = f.batch;
  const auto& pairs = b["rd"]["pairs"];
  bool broken = false;
  for (auto& a : b["rd"]["anchors"]) {
    const auto& anchor = pairs[a["anchor"].get<size_t>()];
    for (size_t j = 0; j < pairs.size() && !broken; ++j)
      if (j != a["anchor"].get<size_t>() && pairs[j]["row"] == anchor["row"] && pairs[j]["head"] == anchor["head"] &&
          j != a["positive"].get<size_t>()) {
        a["negatives"].push_back(j);
        broken = true;
      }
    if (broken) break;
  }
  ASSERT_TRUE(broken);
  const std::string path = f.dir + "/broken.json";
  cotrain::testing::write_file(path, b.dump());
  auto r = cotrain::testing::run_shell("/usr/bin/python3 " + cotrain::testing::source_path("tests/reference/erica_twin.py") +
                                       " --model " + f.model + " --batch " + path);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("breaks erica.md"), std::string::npos) << r.output;
}
