// `cotrain eval --task docred` on hand-made files, numbers worked out by hand.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/support.h"

namespace ct = cotrain::testing;

namespace {

// Two documents. "d1": entities 0 (Paris), 1 (France), 2 (Seine); gold facts
// (0,1,P17) and (2,1,P17). "d2": entities 0 (Lyon), 1 (France); gold (0,1,P17).
const char* kGold = R"([
 {"title": "d1", "sents": [["Paris", "is", "in", "France", "on", "the", "Seine"]],
  "vertexSet": [[{"name": "Paris", "sent_id": 0, "pos": [0, 1], "type": "LOC"}],
                [{"name": "France", "sent_id": 0, "pos": [3, 4], "type": "LOC"}],
                [{"name": "Seine", "sent_id": 0, "pos": [6, 7], "type": "LOC"}]],
  "labels": [{"h": 0, "t": 1, "r": "P17", "evidence": [0]}, {"h": 2, "t": 1, "r": "P17", "evidence": [0]}]},
 {"title": "d2", "sents": [["Lyon", "is", "in", "France"]],
  "vertexSet": [[{"name": "Lyon", "sent_id": 0, "pos": [0, 1], "type": "LOC"}],
                [{"name": "France", "sent_id": 0, "pos": [3, 4], "type": "LOC"}]],
  "labels": [{"h": 0, "t": 1, "r": "P17"}]}
])";

// Training set: one document whose fact (Paris, France, P17) repeats d1's first fact.
const char* kTrain = R"([
 {"title": "t1", "sents": [["Paris", "France"]],
  "vertexSet": [[{"name": "Paris", "sent_id": 0, "pos": [0, 1], "type": "LOC"}],
                [{"name": "France", "sent_id": 0, "pos": [1, 2], "type": "LOC"}]],
  "labels": [{"h": 0, "t": 1, "r": "P17"}]}
])";

// Predictions: d1 (0,1,P17) correct and seen in training; d1 (2,1,P17) correct; d1
// (1,0,P17) wrong; the duplicate of the first counts once; d2 nothing.
// Unique predictions 3, correct 2, gold 3: P = 2/3, R = 2/3, F1 = 2/3.
// Ign: drop the 1 correct-in-train from numerator and denominator: P = 1/2,
// R = 2/3 unchanged, Ign F1 = 2 * (1/2)(2/3) / (1/2 + 2/3) = 4/7.
const char* kPredictions = R"([
 {"title": "d1", "h_idx": 0, "t_idx": 1, "r": "P17", "evidence": [0]},
 {"title": "d1", "h_idx": 0, "t_idx": 1, "r": "P17"},
 {"title": "d1", "h_idx": 2, "t_idx": 1, "r": "P17"},
 {"title": "d1", "h_idx": 1, "t_idx": 0, "r": "P17"}
])";

}  // namespace

TEST(CliEvalDocred, F1AndIgnF1OnHandWorkedFiles) {
  const std::string dir = ct::scratch_dir("eval-docred");
  ct::write_file(dir + "/gold.json", kGold);
  ct::write_file(dir + "/train.json", kTrain);
  ct::write_file(dir + "/pred.json", kPredictions);
  auto r = ct::run_cotrain({"eval", "--task", "docred", "--gold", dir + "/gold.json", "--predictions",
                            dir + "/pred.json", "--train", dir + "/train.json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto line = r.output.substr(r.output.rfind('{'));
  auto score = nlohmann::json::parse(line);
  EXPECT_EQ(score["predictions"], 3);
  EXPECT_EQ(score["gold"], 3);
  EXPECT_EQ(score["correct"], 2);
  EXPECT_EQ(score["correct_in_train"], 1);
  EXPECT_NEAR(score["precision"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(score["recall"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(score["f1"].get<double>(), 2.0 / 3, 1e-12);
  EXPECT_NEAR(score["ign_precision"].get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(score["ign_f1"].get<double>(), 4.0 / 7, 1e-12);
}

TEST(CliEvalDocred, BadPredictionRecordIsNamed) {
  const std::string dir = ct::scratch_dir("eval-docred-bad");
  ct::write_file(dir + "/gold.json", kGold);
  ct::write_file(dir + "/pred.json", R"([{"title": "d1", "h_idx": "zero", "t_idx": 1, "r": "P17"}])");
  auto r = ct::run_cotrain({"eval", "--task", "docred", "--gold", dir + "/gold.json", "--predictions",
                            dir + "/pred.json"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("pred.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("record 0"), std::string::npos) << r.output;
}
