// Caption metrics: BLEU and CIDEr-D on hand-worked examples, against the independent
// Python reference (tests/reference/caption_metrics_ref.py) on random corpora, and
// refused inputs.
#include "cotrain/eval/caption_metrics.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "support/support.h"

namespace cotrain::eval {
namespace {

std::vector<Tokens> cands(std::initializer_list<const char*> texts) {
  std::vector<Tokens> out;
  for (const char* t : texts) out.push_back(caption_tokens(t));
  return out;
}

TEST(CaptionMetrics, Tokenisation) {
  EXPECT_EQ(caption_tokens("Keycap: #  The CAT's (big)."), (Tokens{"keycap", "#", "the", "cats", "big"}));
  EXPECT_TRUE(caption_tokens(" .,; ").empty());
}

// "the cat sat on the mat" against "the cat is on the mat": clipped 5/6 unigrams,
// 3/5 bigrams, 1/4 trigrams, 0/3 4-grams, equal lengths (no brevity penalty).
TEST(CaptionMetrics, BleuHandWorked) {
  BleuScore s = corpus_bleu(cands({"the cat sat on the mat"}), {cands({"the cat is on the mat"})});
  EXPECT_NEAR(s.precision[0], 5.0 / 6.0, 1e-12);
  EXPECT_NEAR(s.precision[1], 3.0 / 5.0, 1e-12);
  EXPECT_NEAR(s.precision[2], 1.0 / 4.0, 1e-12);
  EXPECT_EQ(s.precision[3], 0.0);
  EXPECT_DOUBLE_EQ(s.brevity_penalty, 1.0);
  EXPECT_NEAR(s.bleu[0], 5.0 / 6.0, 1e-12);
  EXPECT_NEAR(s.bleu[1], std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(s.bleu[2], 0.5, 1e-12);
  EXPECT_EQ(s.bleu[3], 0.0);
}

// "the cat" against "the cat is on the mat": precisions 1, BP = exp(1 - 6/2); the
// closest of several references decides r (4 over 6 and 1: |2-1| = 1 < |2-4| = 2, so
// r = 1 and no penalty; with "a b c" (3) and "a" (1) tied at distance 1, the shorter).
TEST(CaptionMetrics, BleuBrevityAndClosestReference) {
  BleuScore s = corpus_bleu(cands({"the cat"}), {cands({"the cat is on the mat"})});
  EXPECT_NEAR(s.bleu[1], std::exp(-2.0), 1e-12);
  EXPECT_DOUBLE_EQ(s.reference_length, 6.0);
  BleuScore tie = corpus_bleu(cands({"x y"}), {cands({"a b c", "a"})});
  EXPECT_DOUBLE_EQ(tie.reference_length, 1.0);
  EXPECT_DOUBLE_EQ(tie.brevity_penalty, 1.0);
  // Clipping: "the the the" against "the cat": 1 of 3 unigrams.
  EXPECT_NEAR(corpus_bleu(cands({"the the the"}), {cands({"the cat"})}).precision[0], 1.0 / 3.0, 1e-12);
}

// Two images whose candidates equal their single references "a b" / "c d": every
// n-gram has df 1 of 2 images (weight log 2); n = 1, 2 give cosine 1, n = 3, 4 have no
// n-grams (0): mean 0.5, x10 = 5 per image.
TEST(CaptionMetrics, CiderHandWorked) {
  CiderScore s = corpus_cider_d(cands({"a b", "c d"}), {cands({"a b"}), cands({"c d"})});
  EXPECT_NEAR(s.cider_d, 5.0, 1e-12);
  // An n-gram in every image's references carries no weight: "a" alone scores 0.
  CiderScore shared = corpus_cider_d(cands({"a", "a"}), {cands({"a b"}), cands({"a c"})});
  EXPECT_NEAR(shared.cider_d, 0.0, 1e-12);
  // Length penalty: candidate "a b" vs reference "a b c d e f g h" (delta 6) in image 1,
  // image 2 unrelated. Unigrams a, b: weights log 2 each in both; the reference's norm
  // holds 8 unigrams of weight log 2 -> cos = 2 / (sqrt 2 * sqrt 8) = 0.5; bigram "a b":
  // 1 / sqrt(7); no 3/4-grams in the candidate. Times exp(-36 / 72).
  CiderScore len = corpus_cider_d(cands({"a b", "z"}), {cands({"a b c d e f g h"}), cands({"y"})});
  EXPECT_NEAR(len.per_image[0], 10.0 * (0.5 + 1.0 / std::sqrt(7.0)) / 4.0 * std::exp(-0.5), 1e-12);
  // CIDEr-D clips: repeating a matched word does not raise the score above the match.
  CiderScore once = corpus_cider_d(cands({"a b", "c"}), {cands({"a b"}), cands({"c"})});
  CiderScore twice = corpus_cider_d(cands({"a a b", "c"}), {cands({"a b"}), cands({"c"})});
  EXPECT_LT(twice.per_image[0], once.per_image[0]);
}

TEST(CaptionMetrics, RefusesMismatchedInputs) {
  EXPECT_THROW(corpus_bleu(cands({"a"}), {}), Error);
  EXPECT_THROW(corpus_cider_d(cands({"a"}), {{}}), Error);
}

// Random corpora over a small vocabulary (so n-grams repeat across images).
TEST(CaptionMetrics, AgreesWithPythonReference) {
  std::mt19937 gen(7);
  const std::vector<std::string> vocab = {"a", "man", "dog", "red", "car", "on", "the", "Face", "with", "hat:"};
  auto sentence = [&](int lo, int hi) {
    std::string s;
    const int n = std::uniform_int_distribution<int>(lo, hi)(gen);
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + vocab[std::uniform_int_distribution<size_t>(0, vocab.size() - 1)(gen)];
    return s;
  };
  for (int trial = 0; trial < 3; ++trial) {
    nlohmann::json input = {{"candidates", nlohmann::json::array()}, {"references", nlohmann::json::array()}};
    std::vector<Tokens> c;
    std::vector<std::vector<Tokens>> r;
    const int images = 20 + 15 * trial;
    for (int i = 0; i < images; ++i) {
      std::string cand = sentence(1, 9);
      input["candidates"].push_back(cand);
      c.push_back(caption_tokens(cand));
      nlohmann::json refs = nlohmann::json::array();
      r.emplace_back();
      const int k = std::uniform_int_distribution<int>(1, 5)(gen);
      for (int j = 0; j < k; ++j) {
        std::string ref = sentence(1, 12);
        refs.push_back(ref);
        r.back().push_back(caption_tokens(ref));
      }
      input["references"].push_back(refs);
    }
    const std::string dir = testing::scratch_dir("caption-metrics");
    testing::write_file(dir + "/input.json", input.dump());
    auto ref = nlohmann::json::parse(testing::run_reference("caption_metrics_ref.py", {dir + "/input.json"}));
    BleuScore b = corpus_bleu(c, r);
    CiderScore cd = corpus_cider_d(c, r);
    for (int n = 0; n < 4; ++n) EXPECT_NEAR(b.bleu[n], ref["bleu"][n].get<double>(), 1e-12) << "BLEU-" << n + 1;
    EXPECT_GT(b.bleu[1], 0.0);  // the corpus exercises non-trivial values
    EXPECT_NEAR(cd.cider_d, ref["cider_d"].get<double>(), 1e-12);
    ASSERT_EQ(cd.per_image.size(), ref["per_image"].size());
    for (size_t i = 0; i < cd.per_image.size(); ++i)
      EXPECT_NEAR(cd.per_image[i], ref["per_image"][i].get<double>(), 1e-12) << "image " << i;
    EXPECT_GT(cd.cider_d, 0.0);
  }
}

}  // namespace
}  // namespace cotrain::eval
