// `cotrain loss --task unimo-seq2seq` on the twin's model and batch prints the twin's
// loss; `cotrain generate` and `cotrain eval --task caption` refuse what they cannot use.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/support.h"

namespace {

TEST(Seq2seqCli, LossMatchesTwin) {
  const std::string dir = cotrain::testing::scratch_dir("s2s-cli");
  cotrain::testing::run_reference("unimo_twin.py", {"model", "--out", dir + "/model", "--type", "roberta", "--seed", "4"});
  cotrain::testing::run_reference("unimo_seq2seq_twin.py",
                                  {"batch", "--model", dir + "/model", "--out", dir + "/batch.json", "--seed", "4"});
  auto twin = nlohmann::json::parse(cotrain::testing::run_reference(
      "unimo_seq2seq_twin.py", {"loss", "--model", dir + "/model", "--batch", dir + "/batch.json"}));
  auto r = cotrain::testing::run_cotrain(
      {"loss", "--task", "unimo-seq2seq", "--model", dir + "/model", "--batch", dir + "/batch.json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto pos = r.output.find('{');
  ASSERT_NE(pos, std::string::npos) << r.output;
  auto ours = nlohmann::json::parse(r.output.substr(pos, r.output.find('}', pos) - pos + 1));
  const double expected = twin["seq2seq"].get<double>();
  EXPECT_NEAR(ours["seq2seq"].get<double>(), expected, 2e-6 * expected) << r.output;
}

TEST(Seq2seqCli, RefusesMissingInputs) {
  auto gen = cotrain::testing::run_cotrain({"generate", "--model", "/nonexistent"});
  EXPECT_EQ(gen.exit_code, 2) << gen.output;
  EXPECT_NE(gen.output.find("--images"), std::string::npos) << gen.output;
  const std::string dir = cotrain::testing::scratch_dir("s2s-cli-eval");
  cotrain::testing::write_file(dir + "/p.jsonl", "{\"generated\": \"a red car\"}\n");
  auto ev = cotrain::testing::run_cotrain({"eval", "--task", "caption", "--caption-predictions", dir + "/p.jsonl"});
  EXPECT_EQ(ev.exit_code, 2) << ev.output;
  EXPECT_NE(ev.output.find("p.jsonl: line 1"), std::string::npos) << ev.output;
  cotrain::testing::write_file(dir + "/q.jsonl",
                               "{\"generated\": \"the cat sat on the mat\", \"references\": [\"the cat is on the mat\"]}\n");
  auto ok = cotrain::testing::run_cotrain({"eval", "--task", "caption", "--caption-predictions", dir + "/q.jsonl"});
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  auto j = nlohmann::json::parse(ok.output.substr(ok.output.find('{')));
  EXPECT_NEAR(j["bleu1"].get<double>(), 5.0 / 6.0, 1e-12);
  EXPECT_EQ(j["bleu4"].get<double>(), 0.0);
}

}  // namespace
