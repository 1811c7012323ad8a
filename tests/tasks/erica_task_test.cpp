// Task "erica" end to end: the data state resumes exactly, configuration errors name
// their key, `cotrain batch/loss --task erica` agree with the twin, and a tiny
// `cotrain pretrain --task erica` run stopped and resumed equals an uninterrupted one.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/tasks/erica_task.h"
#include "erica_test_util.h"

using namespace cotrain;
using namespace cotrain::tasks;
using cotrain::testing::erica_fixture;
using cotrain::testing::read_file;
using cotrain::testing::run_cotrain;
using cotrain::testing::scratch_dir;

namespace {

EricaTask& as_erica(std::unique_ptr<train::TrainTask>& t) { return static_cast<EricaTask&>(*t); }

std::string latest_of(const std::string& run) {
  std::string rel = read_file(run + "/latest");
  while (!rel.empty() && (rel.back() == '\n' || rel.back() == ' ')) rel.pop_back();
  return run + "/" + rel;
}

}  // namespace

// Three ED documents per batch out of four: the second batch crosses an epoch. A
// task restored from (data state, rng state) draws exactly the batch the first
// would have drawn next.
TEST(EricaTask, DataStateResumesExactly) {
  Config config = cotrain::testing::erica_fixture_config();
  config.erica.ed_docs = 3;
  config.erica.rd_docs = 3;
  auto first = make_erica_task(config, {});
  Rng rng(42);
  for (int i = 0; i < 3; ++i) as_erica(first).next_batch(rng);
  const nlohmann::json state = first->data_state();
  EXPECT_EQ(state["ed"]["epoch"], 2);  // 9 draws from 4 documents
  EXPECT_EQ(state["ed"]["cursor"], 1);
  const std::string rng_state = rng.state();
  const nlohmann::json expected = erica_batch_to_json(as_erica(first).next_batch(rng));

  Config config2 = config;
  auto second = make_erica_task(config2, {});
  second->restore_data_state(state);
  Rng rng2(0);
  rng2.set_state(rng_state);
  EXPECT_EQ(erica_batch_to_json(as_erica(second).next_batch(rng2)), expected);

  EXPECT_THROW(second->restore_data_state(nlohmann::json{{"ed", {{"epoch", 0}, {"cursor", 99}}}, {"rd", state["rd"]}}),
               cotrain::Error);
}

TEST(EricaTask, ConfigErrorsNameTheKey) {
  auto expect_error = [](Config c, const std::string& needle) {
    try {
      make_erica_task(c, {});
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const cotrain::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Config c = cotrain::testing::erica_fixture_config();
  c.erica.temperature = 0;
  expect_error(c, "erica.temperature");
  c = cotrain::testing::erica_fixture_config();
  c.erica.rd_pairs = "both";
  expect_error(c, "erica.rd_pairs");
  c = cotrain::testing::erica_fixture_config();
  c.erica.ed_docs = 0;
  c.erica.rd_docs = 0;
  expect_error(c, "erica.ed_docs");
  // No relation names: ED cannot work (a copy of the data without rel_info.json beside it).
  c = cotrain::testing::erica_fixture_config();
  const std::string dir = scratch_dir("erica-no-names");
  cotrain::testing::write_file(dir + "/train.json", read_file(erica_fixture("erica_small.json")));
  c.data.train = {dir + "/train.json"};
  expect_error(c, "erica.relation_names");
  c.erica.ed_docs = 0;  // RD + MLM only need no names
  EXPECT_NO_THROW(make_erica_task(c, {}));
  // A malformed document names file and record; skip mode counts it and goes on.
  nlohmann::json docs = nlohmann::json::parse(read_file(erica_fixture("erica_small.json")));
  docs[1]["labels"][0]["h"] = 17;
  cotrain::testing::write_file(dir + "/bad.json", docs.dump());
  c = cotrain::testing::erica_fixture_config();
  c.data.train = {dir + "/bad.json"};
  c.erica.relation_names = erica_fixture("rel_info.json");
  expect_error(c, "document 1");
  c.erica.on_bad_record = "skip";
  // The skip count itself is checked by the reader's tests (tests/data/docred_reader_test.cpp).
  EXPECT_NO_THROW(make_erica_task(c, {}));
}

// `cotrain batch` then `cotrain loss` on the fixture: the printed losses equal the
// twin's (float32 vs float64).
TEST(EricaTask, CliBatchAndLossAgreeWithTwin) {
  const std::string dir = scratch_dir("erica-cli");
  cotrain::testing::write_erica_test_model(dir + "/model", 3);
  auto batch = run_cotrain({"batch", "--task", "erica", "--data", erica_fixture("erica_small.json"), "--model",
                            dir + "/model", "--seed", "9", "--set", "erica.max_na_pairs=2", "--set",
                            "erica.max_negatives=6", "--set", "data.max_length=64", "--out", dir + "/batch.json"});
  ASSERT_EQ(batch.exit_code, 0) << batch.output;
  const nlohmann::json b = nlohmann::json::parse(read_file(dir + "/batch.json"));
  EXPECT_EQ(b["task"], "erica");
  EXPECT_EQ(b["rows"].size(), 32u);  // the defaults: 16 ED + 16 RD documents (the four, repeated)
  auto loss = run_cotrain({"loss", "--task", "erica", "--model", dir + "/model", "--batch", dir + "/batch.json"});
  ASSERT_EQ(loss.exit_code, 0) << loss.output;
  const std::string line = loss.output.substr(loss.output.rfind('{'));
  const nlohmann::json ours = nlohmann::json::parse(line);
  const nlohmann::json twin = nlohmann::json::parse(cotrain::testing::run_reference(
      "erica_twin.py", {"--model", dir + "/model", "--batch", dir + "/batch.json"}));
  for (const char* k : {"mlm", "ed", "rd", "total"}) {
    const double a = ours.at(k).get<double>(), e = twin.at(k).get<double>();
    EXPECT_NEAR(a, e, 3e-6 * std::max(1.0, std::abs(e))) << k;
    EXPECT_GT(e, 0.0) << k;
  }
}

// pretrain --task erica for 6 updates, and 3 + --resume 3: the same model bits.
TEST(EricaTask, PretrainStopAndResumeIsExact) {
  const std::string dir = scratch_dir("erica-pretrain");
  cotrain::testing::write_erica_test_model(dir + "/init", 4);
  auto args = [&](const std::string& out) {
    return std::vector<std::string>{"pretrain", "--task", "erica", "--init", dir + "/init", "--data",
                                    erica_fixture("erica_small.json"), "--out", out, "--set", "trainer.max_updates=6",
                                    "--set", "trainer.save_every=0", "--set", "trainer.display_every=1", "--set",
                                    "erica.ed_docs=3", "--set", "erica.rd_docs=3", "--set", "data.max_length=64",
                                    "--set", "trainer.threads=1", "--set", "optim.lr=1e-3"};
  };
  auto full = run_cotrain(args(dir + "/a"));
  ASSERT_EQ(full.exit_code, 0) << full.output;
  auto part = args(dir + "/b");
  part.insert(part.end(), {"--stop-after", "3"});
  auto first = run_cotrain(part);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto rest = args(dir + "/b");
  rest.push_back("--resume");
  auto second = run_cotrain(rest);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  auto a = io::load_safetensors(latest_of(dir + "/a") + "/model.safetensors").tensors;
  auto b = io::load_safetensors(latest_of(dir + "/b") + "/model.safetensors").tensors;
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) EXPECT_TRUE(at::equal(t, b.at(name))) << name;
  // Every objective is logged.
  const std::string metrics = read_file(dir + "/a/metrics.jsonl");
  for (const char* k : {"\"loss/ed\"", "\"loss/rd\"", "\"loss/mlm\"", "\"loss\""}) EXPECT_NE(metrics.find(k), std::string::npos) << k;
}
