// `cotrain finetune --task docred` end to end on the hand-made fixture, then `cotrain
// eval --task docred --model RUN`: the evaluation re-runs the saved encoder + head with
// the threshold chosen on dev and must reproduce the finish hook's dev scores and
// predictions exactly; `cotrain loss --task docred` on a batch from `cotrain batch`
// must equal the twin's loss.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "cotrain/eval/docred_metric.h"
#include "cli_json.h"
#include "erica_test_util.h"

namespace ct = cotrain::testing;

using cotrain::testing::last_json_line;

TEST(DocredCli, FinetuneThenEvalReproducesTheDevScores) {
  const std::string dir = ct::scratch_dir("docred-cli");
  const std::string encoder = dir + "/encoder";
  ct::write_erica_test_model(encoder, 3);
  const std::string data = ct::erica_fixture("erica_small.json");
  const std::string run = dir + "/run";
  auto ft = ct::run_cotrain({"finetune", "--task", "docred", "--init", encoder, "--data", data, "--out", run,
                             "--set", "docred.dev=" + data, "--set", "docred.test=" + data,
                             "--set", "data.max_length=64", "--set", "trainer.batch_size=2",
                             "--set", "trainer.max_updates=6", "--set", "trainer.save_every=0",
                             "--set", "optim.lr=1e-3", "--set", "trainer.threads=1"});
  ASSERT_EQ(ft.exit_code, 0) << ft.output;
  const nlohmann::json report = last_json_line(ft.output);
  ASSERT_TRUE(report.contains("dev")) << ft.output;
  ASSERT_TRUE(report["test"]["labelled"].get<bool>());
  EXPECT_EQ(report["dev"]["gold"].get<int>(), 20) << "unique facts of the fixture";
  EXPECT_GT(report["dev"]["f1"].get<double>(), 0.0);
  EXPECT_EQ(report["dev"]["f1"], report["test"]["f1"]) << "same file, same model, same threshold";
  EXPECT_TRUE(std::filesystem::exists(run + "/dev_predictions.json"));

  const std::string preds = dir + "/preds.json";
  auto ev = ct::run_cotrain({"eval", "--task", "docred", "--model", run, "--gold", data, "--train", data,
                             "--out", preds, "--threads", "1", "--batch-size", "2"});
  ASSERT_EQ(ev.exit_code, 0) << ev.output;
  const nlohmann::json score = last_json_line(ev.output);
  EXPECT_EQ(score["threshold"], report["threshold"]);
  for (const char* key : {"f1", "ign_f1", "precision", "recall", "predictions", "correct"})
    EXPECT_EQ(score[key], report["dev"][key]) << key << "\n" << ev.output << "\n" << report.dump();
  EXPECT_EQ(cotrain::eval::read_docred_predictions(preds).size(),
            cotrain::eval::read_docred_predictions(run + "/dev_predictions.json").size());
  EXPECT_EQ(ct::read_file(preds), ct::read_file(run + "/dev_predictions.json"));

  // An explicit threshold above every probability predicts nothing.
  auto none = ct::run_cotrain({"eval", "--task", "docred", "--model", run, "--gold", data, "--threshold", "1",
                               "--out", dir + "/none.json"});
  ASSERT_EQ(none.exit_code, 0) << none.output;
  EXPECT_EQ(last_json_line(none.output)["predictions"].get<int>(), 0);
  // A folder without a head is refused with a message naming the file.
  auto bad = ct::run_cotrain({"eval", "--task", "docred", "--model", encoder, "--gold", data});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("docred_head.safetensors"), std::string::npos) << bad.output;

  // cotrain loss on cotrain batch's output agrees with the twin.
  const std::string batch = dir + "/batch.json";
  auto b = ct::run_cotrain({"batch", "--task", "docred", "--model", run, "--data", data, "--out", batch,
                            "--set", "data.max_length=64", "--set", "trainer.batch_size=3"});
  ASSERT_EQ(b.exit_code, 0) << b.output;
  auto l = ct::run_cotrain({"loss", "--task", "docred", "--model", run, "--batch", batch});
  ASSERT_EQ(l.exit_code, 0) << l.output;
  const std::string checkpoint = run + "/" + ct::read_file(run + "/latest").substr(0, ct::read_file(run + "/latest").find('\n'));
  const nlohmann::json twin = nlohmann::json::parse(ct::run_reference("docred_twin.py", {"--model", checkpoint, "--batch", batch}));
  const double ours = last_json_line(l.output)["bce"].get<double>();
  EXPECT_NEAR(ours, twin["bce"].get<double>(), 1e-6 * std::abs(twin["bce"].get<double>())) << l.output;
}
