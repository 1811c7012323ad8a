// Document-level RE data: DocRED's distance bins, the low-resource subsets, the NA
// sampling ratio, the batch JSON reader's refusals and the dev threshold, on
// hand-worked cases.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/tasks/docred_predict.h"
#include "cotrain/tasks/docred_re_data.h"
#include "erica_test_util.h"

using namespace cotrain;
using namespace cotrain::tasks;

TEST(DocredData, DistanceBinsAreDocredsSigned) {
  // |d|: 0 -> 0, 1 -> 1, 2-3 -> 2, 4-7 -> 3, 8-15 -> 4, ..., 128-255 -> 8, >= 256 -> 9
  EXPECT_EQ(distance_index(0), 10);
  EXPECT_EQ(distance_index(1), 11);
  EXPECT_EQ(distance_index(-1), 9);
  EXPECT_EQ(distance_index(2), 12);
  EXPECT_EQ(distance_index(3), 12);
  EXPECT_EQ(distance_index(4), 13);
  EXPECT_EQ(distance_index(-7), 7);
  EXPECT_EQ(distance_index(8), 14);
  EXPECT_EQ(distance_index(15), 14);
  EXPECT_EQ(distance_index(16), 15);
  EXPECT_EQ(distance_index(127), 17);
  EXPECT_EQ(distance_index(128), 18);
  EXPECT_EQ(distance_index(255), 18);
  EXPECT_EQ(distance_index(256), 19);
  EXPECT_EQ(distance_index(-100000), 1);
}

TEST(DocredData, TrainSubsetIsASeededPrefix) {
  const auto all = docred_train_subset(3000, 1.0, 7);
  EXPECT_EQ(all.size(), 3000u);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 3000u);
  const auto tenth = docred_train_subset(3000, 0.1, 7);
  const auto hundredth = docred_train_subset(3000, 0.01, 7);
  ASSERT_EQ(tenth.size(), 300u);
  ASSERT_EQ(hundredth.size(), 30u);
  // The 1% documents are the first of the 10% ones, which are the first of all.
  EXPECT_TRUE(std::equal(hundredth.begin(), hundredth.end(), tenth.begin()));
  EXPECT_TRUE(std::equal(tenth.begin(), tenth.end(), all.begin()));
  EXPECT_EQ(docred_train_subset(3000, 0.1, 7), tenth) << "deterministic";
  EXPECT_NE(docred_train_subset(3000, 0.1, 8), tenth) << "the seed decides";
  EXPECT_EQ(docred_train_subset(50, 0.01, 7).size(), 1u) << "at least one document";
  EXPECT_EQ(docred_train_subset(30431, 0.01, 7).size(), 305u) << "ceil(304.31)";
  EXPECT_THROW(docred_train_subset(10, 0.0, 7), Error);
  EXPECT_THROW(docred_train_subset(10, 1.5, 7), Error);
}

namespace {

DocredReCorpus fixture_corpus(const text::Tokenizer& tokenizer) {
  auto docs = data::read_docred(cotrain::testing::erica_fixture("erica_small.json"));
  auto relations = relations_of_labels(docs);
  return prepare_docred_corpus(std::move(docs), tokenizer, 64, relations);
}

}  // namespace

TEST(DocredData, TrainBatchHasEveryPositiveAndNaAtTheRatio) {
  auto tokenizer = cotrain::testing::erica_tokenizer();
  const DocredReCorpus corpus = fixture_corpus(*tokenizer);
  ASSERT_EQ(corpus.relations.ids, (std::vector<std::string>{"P150", "P17", "P206", "P36", "P999"}));
  for (double ratio : {0.5, 1.0, 3.0}) {
    Rng rng(3);
    DocredBatch b = build_docred_train_batch(corpus, {0, 1, 2, 3}, *tokenizer, ratio, rng);
    for (int64_t row = 0; row < 4; ++row) {
      const auto& d = corpus.docs[static_cast<size_t>(row)];
      const auto n = static_cast<int64_t>(d.aligned.entities.size());
      int64_t pos = 0, na = 0;
      std::set<std::pair<int64_t, int64_t>> seen;
      for (const auto& p : b.pairs) {
        if (p.row != row) continue;
        EXPECT_TRUE(seen.insert({p.head, p.tail}).second) << "a pair twice";
        if (p.classes == std::vector<int64_t>{0})
          ++na;
        else
          ++pos;
      }
      EXPECT_EQ(pos, static_cast<int64_t>(d.positives.size()));
      const int64_t available = n * (n - 1) - pos;
      EXPECT_EQ(na, std::min<int64_t>(std::llround(ratio * static_cast<double>(pos)), available))
          << "row " << row << " ratio " << ratio;
    }
  }
  // germany: entities 1 -> 0 carry P36 and P150: one pair, two classes (P150 = 1, P36 = 4).
  const auto& germany = corpus.docs[1];
  EXPECT_EQ(germany.classes.at({1, 0}), (std::vector<int64_t>{1, 4}));
}

TEST(DocredData, BatchJsonRoundTripsAndRefusesBadIndices) {
  auto tokenizer = cotrain::testing::erica_tokenizer();
  const DocredReCorpus corpus = fixture_corpus(*tokenizer);
  Rng rng(1);
  DocredBatch b = build_docred_train_batch(corpus, {2, 3}, *tokenizer, 3.0, rng);
  nlohmann::json j = docred_batch_to_json(b);
  DocredBatch back = docred_batch_from_json(j);
  EXPECT_EQ(back.rows, b.rows);
  ASSERT_EQ(back.pairs.size(), b.pairs.size());
  for (size_t i = 0; i < b.pairs.size(); ++i) {
    EXPECT_EQ(back.pairs[i].head, b.pairs[i].head);
    EXPECT_EQ(back.pairs[i].classes, b.pairs[i].classes);
    EXPECT_EQ(back.pairs[i].dist_th, b.pairs[i].dist_th);
  }
  auto refused = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& needle) {
    nlohmann::json bad = j;
    edit(bad);
    try {
      docred_batch_from_json(bad);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused([](nlohmann::json& x) { x["pairs"][0]["head"] = 999; }, "pairs[0].head");
  refused([](nlohmann::json& x) { x["pairs"][0]["classes"] = {99}; }, "classes");
  refused([](nlohmann::json& x) { x["pairs"][0]["dist_ht"] = 20; }, "dist_ht");
  refused([](nlohmann::json& x) { x["entities"][0]["mentions"][0] = {5, 500}; }, "mention end");
  refused([](nlohmann::json& x) { x["pairs"][0]["tail"] = x["entities"].size() - 1; x["pairs"][0]["row"] = 0; },
          "entities of row");
}

namespace {

// Two documents, relations A and B; gold: doc "one" (0, 1, A), (1, 0, B); doc "two" (0, 1, A).
DocredReCorpus threshold_corpus() {
  DocredReCorpus c;
  c.relations.ids = {"A", "B"};
  data::Document one, two;
  one.title = "one";
  one.labels = {{0, 1, "A", {}}, {1, 0, "B", {}}};
  two.title = "two";
  two.labels = {{0, 1, "A", {}}};
  // Two single-mention entities each (the metric checks label indices against them).
  data::Entity e0, e1;
  e0.mentions = {data::Mention{"x", 0, 0, 1, "T", ""}};
  e1.mentions = {data::Mention{"y", 0, 1, 2, "T", ""}};
  one.entities = two.entities = {e0, e1};
  c.source = {one, two};
  return c;
}

}  // namespace

// Ranked: 0.9 right, 0.8 wrong, 0.7 right, 0.6 wrong, 0.5 right, 0.1 wrong; 3 gold facts.
// F1 at each cut: 1/2, 2/5, 2/3, 4/7, 3/4, 2/3 -> keep down to 0.5, F1 0.75; the
// threshold lies midway to the next probability: 0.3.
TEST(DocredThreshold, BestF1CutOnHandWorkedScores) {
  const DocredReCorpus c = threshold_corpus();
  std::vector<DocredCandidate> cands = {{0, 0, 1, 1, 0.9f}, {0, 0, 1, 2, 0.8f}, {1, 0, 1, 1, 0.7f},
                                        {1, 1, 0, 1, 0.6f}, {0, 1, 0, 2, 0.5f}, {1, 1, 0, 2, 0.1f}};
  const DocredThreshold t = choose_docred_threshold(cands, c);
  EXPECT_NEAR(t.threshold, 0.3, 1e-7);
  EXPECT_NEAR(t.f1, 0.75, 1e-12);
  const auto preds = docred_predictions(cands, c, t.threshold);
  ASSERT_EQ(preds.size(), 5u);
  EXPECT_EQ(preds[4].title, "one");
  EXPECT_EQ(preds[4].r, "B");
  const DocredFileResult r = evaluate_docred_corpus(cands, c, t.threshold, nullptr, "");
  EXPECT_TRUE(r.labelled);
  EXPECT_NEAR(r.score.f1, 0.75, 1e-12) << "the metric agrees with the sweep";

  // A tie between the 0.5 right and the last wrong one: no cut between them; cuts
  // give 1/2, 2/5, 2/3, 4/7, 2/3 (all six) and the first best (down to 0.7) is
  // kept: threshold midway to 0.6.
  cands[5].prob = 0.5f;
  const DocredThreshold tied = choose_docred_threshold(cands, c);
  EXPECT_NEAR(tied.threshold, 0.65, 1e-7);
  EXPECT_NEAR(tied.f1, 2.0 / 3.0, 1e-12);
}

// Facts lost to truncation (or never scored) still count in recall's denominator.
TEST(DocredThreshold, UnscoredGoldFactsCountInRecall) {
  const DocredReCorpus c = threshold_corpus();
  const std::vector<DocredCandidate> cands = {{0, 0, 1, 1, 0.9f}};
  const DocredThreshold t = choose_docred_threshold(cands, c);
  EXPECT_NEAR(t.f1, 2 * 1.0 * (1.0 / 3.0) / (1.0 + 1.0 / 3.0), 1e-12);
}
