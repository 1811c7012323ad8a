// CMCL's text-side data: the lexicon rewriter (hard negatives) and TF-IDF retrieval.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "cotrain/core/error.h"
#include "cotrain/tasks/unimo_rewriter.h"
#include "cotrain/tasks/unimo_tfidf.h"
#include "support/support.h"

using namespace cotrain;
using namespace cotrain::tasks;

TEST(UnimoRewriter, SwapsOneWordOfAGroup) {
  CaptionRewriter r;
  r.add_group({"red", "blue", "green"});
  r.add_group({"riding", "feeding"});
  Rng rng(5);
  auto out = r.rewrite("A man riding a red horse", 10, rng);
  // 2 alternatives for "riding" x 1 + 2 for "red": at most 3 distinct rewrites.
  std::set<std::string> got(out.begin(), out.end());
  const std::set<std::string> possible = {"A man feeding a red horse", "A man riding a blue horse",
                                          "A man riding a green horse"};
  EXPECT_EQ(got, possible);
  EXPECT_EQ(out.size(), got.size()) << "rewrites are distinct";
}

TEST(UnimoRewriter, WordBoundariesCaseAndLongestMatch) {
  CaptionRewriter r;
  r.add_group({"light skin tone", "dark skin tone"});
  r.add_group({"red", "blue"});
  r.add_group({"smiling", "frowning"});
  // "redo" and "bored" contain "red" but not as a word.
  EXPECT_TRUE(r.matches("redo the bored task").empty());
  auto m = r.matches("Smiling face: light skin tone");
  ASSERT_EQ(m.size(), 2u);
  Rng rng(1);
  std::set<std::string> got;
  for (const auto& t : r.rewrite("Smiling face: light skin tone", 5, rng)) got.insert(t);
  EXPECT_EQ(got, (std::set<std::string>{"Frowning face: light skin tone", "Smiling face: dark skin tone"}));
}

TEST(UnimoRewriter, NoMatchNoRewrite) {
  CaptionRewriter r;
  r.add_group({"red", "blue"});
  Rng rng(1);
  EXPECT_TRUE(r.rewrite("a cat on a mat", 3, rng).empty());
}

TEST(UnimoRewriter, LexiconFilesAndErrors) {
  const std::string dir = cotrain::testing::scratch_dir("unimo-lexicons");
  cotrain::testing::write_file(dir + "/a.txt", "# colours\nred | blue  # inline comment\n\nbig|small\n");
  CaptionRewriter r;
  r.add_lexicon_dir(dir);
  EXPECT_EQ(r.groups(), 2u);
  cotrain::testing::write_file(dir + "/bad.txt", "red | blue\nlonely\n");
  CaptionRewriter bad;
  try {
    bad.add_lexicon_file(dir + "/bad.txt");
    FAIL() << "a one-member group must be rejected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt: line 2"), std::string::npos) << e.what();
  }
}

TEST(UnimoRewriter, ShippedLexiconsLoad) {
  CaptionRewriter r;
  r.add_lexicon_dir(cotrain::testing::source_path("resources/lexicons"));
  EXPECT_GT(r.groups(), 20u);
  Rng rng(2);
  auto out = r.rewrite("waving hand: medium-dark skin tone", 4, rng);
  ASSERT_FALSE(out.empty());
  for (const auto& t : out) EXPECT_NE(t, "waving hand: medium-dark skin tone");
}

TEST(UnimoTfidf, MatchesABruteForceCosine) {
  const std::vector<std::string> docs = {"red heart", "blue heart", "grinning face with big eyes",
                                         "grinning face", "red apple", "heart with arrow", "face"};
  TfidfIndex index(docs);
  // Brute force from the documented formula.
  std::map<std::string, int> df;
  for (const auto& d : docs) {
    std::set<std::string> seen;
    for (const auto& t : tfidf_terms(d)) seen.insert(t);
    for (const auto& t : seen) ++df[t];
  }
  auto vec = [&](const std::string& text) {
    std::map<std::string, double> tf;
    for (const auto& t : tfidf_terms(text))
      if (df.count(t)) tf[t] += 1;
    std::map<std::string, double> v;
    double norm = 0;
    for (const auto& [t, n] : tf) {
      v[t] = (1 + std::log(n)) * (std::log((1.0 + docs.size()) / (1.0 + df[t])) + 1.0);
      norm += v[t] * v[t];
    }
    for (auto& [t, w] : v) w /= std::sqrt(norm);
    return v;
  };
  const std::string query = "Red heart, red!";
  auto q = vec(query);
  auto hits = index.search_all(index.vectorize(query));
  ASSERT_FALSE(hits.empty());
  for (const auto& h : hits) {
    auto d = vec(docs[static_cast<size_t>(h.document)]);
    double s = 0;
    for (const auto& [t, w] : q)
      if (d.count(t)) s += w * d[t];
    EXPECT_NEAR(h.similarity, s, 1e-6) << docs[static_cast<size_t>(h.document)];
  }
  EXPECT_EQ(hits.front().document, 0);  // "red heart" itself
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].similarity, hits[i].similarity);
  // With a filter, the best other document.
  auto other = index.search(index.vectorize("red heart"), 1, [](int64_t d) { return d != 0; });
  ASSERT_EQ(other.size(), 1u);
  EXPECT_TRUE(other[0].document == 1 || other[0].document == 4) << other[0].document;
}
