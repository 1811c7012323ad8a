// DocRED F1 / Ign F1 on hand-worked cases (numbers worked out in the comments), the
// predictions file reader/writer, and a randomized comparison with the independent
// Python reference tests/reference/docred_metric_ref.py.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/eval/docred_metric.h"
#include "support/support.h"

namespace eval = cotrain::eval;
using eval::DocredGoldDocument;
using eval::DocredPrediction;

namespace {

// Gold set shared by the hand-worked cases:
//   "Alpha": 0 = {Paris, the city}, 1 = {France}, 2 = {Seine}
//            labels (0,1,P17) twice, (2,1,P17), (0,1,P131)
//   "Beta":  0 = {Berlin}, 1 = {Germany}; label (0,1,P17)
// Unique gold facts: Alpha(0,1,P17), Alpha(2,1,P17), Alpha(0,1,P131), Beta(0,1,P17) -> 4.
std::vector<DocredGoldDocument> gold() {
  DocredGoldDocument alpha{"Alpha", {{"Paris", "the city"}, {"France"}, {"Seine"}},
                           {{0, 1, "P17"}, {0, 1, "P17"}, {2, 1, "P17"}, {0, 1, "P131"}}};
  DocredGoldDocument beta{"Beta", {{"Berlin"}, {"Germany"}}, {{0, 1, "P17"}}};
  return {alpha, beta};
}

// Training set for the Ign cases. Its name facts:
//   (the city, France, P17), (Lutetia, France, P17), (Seine, France, P131),
//   (France, the city, P17), (France, Lutetia, P17), (Germany, Berlin, P17)
std::vector<DocredGoldDocument> train() {
  DocredGoldDocument t1{"Train1", {{"the city", "Lutetia"}, {"France"}, {"Seine"}},
                        {{0, 1, "P17"}, {2, 1, "P131"}, {1, 0, "P17"}}};
  DocredGoldDocument t2{"Train2", {{"Germany"}, {"Berlin"}}, {{0, 1, "P17"}}};
  return {t1, t2};
}

DocredPrediction pred(const std::string& title, int64_t h, int64_t t, const std::string& r) {
  return DocredPrediction{title, h, t, r, {}};
}

constexpr double kTol = 1e-12;

}  // namespace

TEST(DocredMetric, TrainFactsCoverEveryMentionNamePair) {
  const auto facts = eval::docred_train_facts(train());
  EXPECT_EQ(facts.size(), 6u);
  EXPECT_TRUE(facts.count({"Lutetia", "France", "P17"}));
  EXPECT_TRUE(facts.count({"France", "Lutetia", "P17"}));
  EXPECT_FALSE(facts.count({"Berlin", "Germany", "P17"}));  // direction matters
}

TEST(DocredMetric, EmptyPredictionsScoreZeroWithoutDividingByZero) {
  // 0 predicted, 4 gold, 0 correct: P = 0/0 -> 0, R = 0/4 = 0, F1 = 0 (p + r = 0).
  const auto s = eval::score_docred(gold(), {}, eval::docred_train_facts(train()));
  EXPECT_EQ(s.predictions, 0u);
  EXPECT_EQ(s.gold, 4u);
  EXPECT_EQ(s.correct, 0u);
  EXPECT_EQ(s.precision, 0.0);
  EXPECT_EQ(s.recall, 0.0);
  EXPECT_EQ(s.f1, 0.0);
  EXPECT_EQ(s.ign_precision, 0.0);
  EXPECT_EQ(s.ign_f1, 0.0);
}

TEST(DocredMetric, DuplicatePredictionsCountOnce) {
  // Alpha(0,1,P17) x3 (correct), Alpha(2,1,P17) (correct), Alpha(2,1,P131) (wrong).
  // Unique predicted 3, correct 2: P = 2/3, R = 2/4 = 1/2,
  // F1 = 2 * (2/3)(1/2) / (2/3 + 1/2) = (2/3) / (7/6) = 4/7.
  const std::vector<DocredPrediction> p = {pred("Alpha", 0, 1, "P17"), pred("Alpha", 0, 1, "P17"),
                                           pred("Alpha", 2, 1, "P17"), pred("Alpha", 0, 1, "P17"),
                                           pred("Alpha", 2, 1, "P131")};
  const auto s = eval::score_docred(gold(), p, {});
  EXPECT_EQ(s.predictions, 3u);
  EXPECT_EQ(s.correct, 2u);
  EXPECT_NEAR(s.precision, 2.0 / 3, kTol);
  EXPECT_NEAR(s.recall, 0.5, kTol);
  EXPECT_NEAR(s.f1, 4.0 / 7, kTol);
  // No training facts: Ign F1 equals F1.
  EXPECT_EQ(s.correct_in_train, 0u);
  EXPECT_NEAR(s.ign_f1, 4.0 / 7, kTol);
}

TEST(DocredMetric, UnknownTitlesAndBadIndicesAreWrongButCounted) {
  // Beta(0,1,P17) correct; Gamma(0,1,P17) and Gamma(5,9,P1) name an unknown document;
  // Alpha(7,8,P17) has entity indices past Alpha's 3 entities.
  // Unique predicted 4, correct 1: P = 1/4, R = 1/4, F1 = 1/4.
  const std::vector<DocredPrediction> p = {pred("Beta", 0, 1, "P17"), pred("Gamma", 0, 1, "P17"),
                                           pred("Gamma", 5, 9, "P1"), pred("Alpha", 7, 8, "P17")};
  const auto s = eval::score_docred(gold(), p, eval::docred_train_facts(train()));
  EXPECT_EQ(s.predictions, 4u);
  EXPECT_EQ(s.correct, 1u);
  EXPECT_NEAR(s.precision, 0.25, kTol);
  EXPECT_NEAR(s.recall, 0.25, kTol);
  EXPECT_NEAR(s.f1, 0.25, kTol);
}

TEST(DocredMetric, IgnRemovesCorrectFactsSeenInTrainFromPrecisionOnly) {
  // Alpha(0,1,P17): correct; names (the city, France, P17) are a training fact -> in train.
  // Alpha(2,1,P17): correct; train has (Seine, France) only with P131 -> not in train.
  // Beta(0,1,P17):  correct; train has (Germany, Berlin), the other direction -> not in train.
  // Alpha(1,0,P17): wrong, although (France, the city, P17) is in train: not removed.
  // predicted 4, correct 3, in train 1.
  // P = 3/4, R = 3/4, F1 = 3/4.
  // Ign P = (3 - 1) / (4 - 1) = 2/3; Ign F1 = 2 (2/3)(3/4) / (2/3 + 3/4) = 1 / (17/12) = 12/17.
  const std::vector<DocredPrediction> p = {pred("Alpha", 0, 1, "P17"), pred("Alpha", 2, 1, "P17"),
                                           pred("Beta", 0, 1, "P17"), pred("Alpha", 1, 0, "P17")};
  const auto s = eval::score_docred(gold(), p, eval::docred_train_facts(train()));
  EXPECT_EQ(s.predictions, 4u);
  EXPECT_EQ(s.correct, 3u);
  EXPECT_EQ(s.correct_in_train, 1u);
  EXPECT_NEAR(s.f1, 0.75, kTol);
  EXPECT_NEAR(s.ign_precision, 2.0 / 3, kTol);
  EXPECT_NEAR(s.recall, 0.75, kTol);
  EXPECT_NEAR(s.ign_f1, 12.0 / 17, kTol);
}

TEST(DocredMetric, IgnWithEveryCorrectFactInTrainIsZeroNotNaN) {
  // Only Alpha(0,1,P17), correct and in train: P = 1, R = 1/4, F1 = 2(1/4)/(5/4) = 2/5.
  // Ign P = (1 - 1) / (1 - 1) = 0/0 -> 0; Ign F1 = 0.
  const auto s = eval::score_docred(gold(), {pred("Alpha", 0, 1, "P17")}, eval::docred_train_facts(train()));
  EXPECT_NEAR(s.f1, 0.4, kTol);
  EXPECT_EQ(s.correct_in_train, 1u);
  EXPECT_EQ(s.ign_precision, 0.0);
  EXPECT_EQ(s.ign_f1, 0.0);
}

TEST(DocredMetric, RefusesAmbiguousOrOutOfRangeGold) {
  auto dup = gold();
  dup[1].title = "Alpha";
  EXPECT_THROW(eval::score_docred(dup, {}, {}), cotrain::Error);
  auto bad = gold();
  bad[1].labels.push_back({0, 2, "P17"});  // Beta has 2 entities
  try {
    eval::score_docred(bad, {}, {});
    FAIL() << "no error";
  } catch (const cotrain::Error& e) {
    EXPECT_NE(std::string(e.what()).find("document 1 ('Beta'): label 1"), std::string::npos) << e.what();
  }
  auto bad_train = train();
  bad_train[0].labels.push_back({-1, 0, "P17"});
  EXPECT_THROW(eval::docred_train_facts(bad_train), cotrain::Error);
}

TEST(DocredPredictionsFile, WritesAndReadsBack) {
  const std::string path = cotrain::testing::scratch_dir("docred_preds") + "/result.json";
  std::vector<DocredPrediction> p = {pred("Alpha", 0, 1, "P17"), pred("Beta \"quoted\"", 3, 2, "P131")};
  p[1].evidence = {0, 4};
  eval::write_docred_predictions(path, p);
  const auto back = eval::read_docred_predictions(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].title, "Beta \"quoted\"");
  EXPECT_EQ(back[1].h_idx, 3);
  EXPECT_EQ(back[1].t_idx, 2);
  EXPECT_EQ(back[1].r, "P131");
  EXPECT_EQ(back[1].evidence, (std::vector<int64_t>{0, 4}));
  EXPECT_TRUE(back[0].evidence.empty());
  // The submission format's keys.
  const auto j = nlohmann::json::parse(cotrain::testing::read_file(path));
  EXPECT_EQ(j[0].at("title"), "Alpha");
  EXPECT_EQ(j[0].at("h_idx"), 0);
  EXPECT_EQ(j[0].at("t_idx"), 1);
  EXPECT_EQ(j[0].at("r"), "P17");
  EXPECT_TRUE(j[0].at("evidence").is_array());
}

TEST(DocredPredictionsFile, AcceptsIntegerRelationsAndMissingEvidence) {
  const auto p = eval::parse_docred_predictions(R"([{"title":"A","h_idx":1,"t_idx":0,"r":17}])", "p.json");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].r, "17");
  EXPECT_TRUE(p[0].evidence.empty());
}

TEST(DocredPredictionsFile, ErrorsNameFileAndRecord) {
  auto error = [](const std::string& text) -> std::string {
    try {
      eval::parse_docred_predictions(text, "preds.json");
    } catch (const cotrain::Error& e) {
      return e.what();
    }
    return "";
  };
  const std::string ok = R"({"title":"A","h_idx":0,"t_idx":1,"r":"P1"})";
  EXPECT_NE(error("[" + ok).find("preds.json: not valid JSON"), std::string::npos);
  EXPECT_NE(error(ok).find("preds.json: expected a JSON list"), std::string::npos);
  EXPECT_NE(error("[" + ok + "," + ok + R"(,{"title":"A","h_idx":0,"r":"P1"}])")
                .find("preds.json: record 2: missing \"t_idx\""),
            std::string::npos);
  EXPECT_NE(error(R"([{"title":"A","h_idx":-1,"t_idx":1,"r":"P1"}])").find("preds.json: record 0: h_idx"),
            std::string::npos);
  EXPECT_NE(error(R"([{"title":"A","h_idx":0,"t_idx":1,"r":1.5}])").find("record 0: r must be"), std::string::npos);
  EXPECT_NE(error(R"([{"title":7,"h_idx":0,"t_idx":1,"r":"P1"}])").find("record 0: title"), std::string::npos);
  EXPECT_NE(error(R"([{"title":"A","h_idx":0,"t_idx":1,"r":"P1","evidence":[0,"x"]}])")
                .find("record 0: evidence[1]"),
            std::string::npos);
  EXPECT_NE(error("[3]").find("record 0: expected an object"), std::string::npos);
  EXPECT_THROW(eval::read_docred_predictions("/nonexistent/preds.json"), cotrain::Error);
}

// Random gold / train / predictions with a small name pool (so that train facts
// collide with gold mention names), duplicates, unknown titles and out-of-range
// indices; every count and ratio must match the Python reference.
TEST(DocredMetric, MatchesPythonReferenceOnRandomSets) {
  using nlohmann::json;
  const std::string dir = cotrain::testing::scratch_dir("docred_metric_random");
  const std::vector<std::string> names = {"a", "b", "c", "d", "e", "f"};
  const std::vector<std::string> rels = {"P1", "P2", "P3"};
  size_t seeds_with_ign = 0, seeds_partly_right = 0;  // the random sets must exercise both
  for (unsigned seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](size_t n) { return static_cast<int64_t>(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
    auto make_docs = [&](const std::string& prefix, size_t count) {
      std::vector<DocredGoldDocument> docs;
      for (size_t d = 0; d < count; ++d) {
        DocredGoldDocument doc;
        doc.title = prefix + std::to_string(d);
        const size_t entities = 2 + pick(4);
        for (size_t e = 0; e < entities; ++e) {
          std::vector<std::string> mentions;
          for (int64_t m = 0, n = 1 + pick(3); m < n; ++m) mentions.push_back(names[pick(names.size())]);
          doc.entity_mention_names.push_back(mentions);
        }
        for (int64_t l = 0, n = pick(6); l < n; ++l)
          doc.labels.push_back({pick(entities), pick(entities), rels[pick(rels.size())]});
        docs.push_back(doc);
      }
      return docs;
    };
    const auto gold_docs = make_docs("G", 5);
    const auto train_docs = make_docs("T", 6);
    std::vector<DocredPrediction> preds;
    for (int i = 0, n = static_cast<int>(pick(40)); i < n; ++i) {
      const auto& doc = gold_docs[pick(gold_docs.size())];
      const int kind = static_cast<int>(pick(4));
      if (kind == 0 && !doc.labels.empty()) {  // a gold fact (duplicates likely)
        const auto& l = doc.labels[pick(doc.labels.size())];
        preds.push_back(pred(doc.title, l.h, l.t, l.r));
      } else if (kind == 1) {  // unknown title
        preds.push_back(pred("X" + std::to_string(pick(3)), pick(3), pick(3), rels[pick(rels.size())]));
      } else {  // random pair, sometimes out of range
        preds.push_back(pred(doc.title, pick(7), pick(7), rels[pick(rels.size())]));
      }
    }

    auto to_json = [](const std::vector<DocredGoldDocument>& docs) {
      json out = json::array();
      for (const auto& d : docs) {
        json vs = json::array();
        for (const auto& e : d.entity_mention_names) {
          json ms = json::array();
          for (const auto& n : e) ms.push_back({{"name", n}});
          vs.push_back(ms);
        }
        json labels = json::array();
        for (const auto& l : d.labels) labels.push_back({{"h", l.h}, {"t", l.t}, {"r", l.r}, {"evidence", json::array()}});
        out.push_back({{"title", d.title}, {"vertexSet", vs}, {"labels", labels}});
      }
      return out.dump();
    };
    const std::string g = dir + "/gold.json", t = dir + "/train.json", p = dir + "/preds.json";
    cotrain::testing::write_file(g, to_json(gold_docs));
    cotrain::testing::write_file(t, to_json(train_docs));
    eval::write_docred_predictions(p, preds);

    const auto s = eval::score_docred(gold_docs, eval::read_docred_predictions(p), eval::docred_train_facts(train_docs));
    const auto ref = json::parse(cotrain::testing::run_reference("docred_metric_ref.py", {g, t, p}));
    SCOPED_TRACE("seed " + std::to_string(seed));
    EXPECT_EQ(s.predictions, ref.at("predictions").get<size_t>());
    EXPECT_EQ(s.gold, ref.at("gold").get<size_t>());
    EXPECT_EQ(s.correct, ref.at("correct").get<size_t>());
    EXPECT_EQ(s.correct_in_train, ref.at("correct_in_train").get<size_t>());
    EXPECT_NEAR(s.precision, ref.at("precision").get<double>(), kTol);
    EXPECT_NEAR(s.recall, ref.at("recall").get<double>(), kTol);
    EXPECT_NEAR(s.f1, ref.at("f1").get<double>(), kTol);
    EXPECT_NEAR(s.ign_precision, ref.at("ign_precision").get<double>(), kTol);
    EXPECT_NEAR(s.ign_f1, ref.at("ign_f1").get<double>(), kTol);
    if (s.correct_in_train > 0 && s.correct > s.correct_in_train) ++seeds_with_ign;
    if (s.correct > 0 && s.correct < s.predictions && s.correct < s.gold) ++seeds_partly_right;
  }
  EXPECT_GE(seeds_with_ign, 3u);
  EXPECT_GE(seeds_partly_right, 6u);
  std::printf("random sets: %zu with Ign removals, %zu partly right\n", seeds_with_ign, seeds_partly_right);
}
