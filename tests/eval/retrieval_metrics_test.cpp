// Retrieval metrics: chunked computation against a brute-force one on the full
// matrix, hand-worked examples, and refused inputs.
#include "cotrain/eval/retrieval_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "support/support.h"

namespace cotrain {
namespace {

// Full row-major [num_texts x num_images] matrix served as chunks.
struct Matrix {
  int64_t num_images;
  int64_t num_texts;
  std::vector<float> scores;
  float at(int64_t t, int64_t i) const { return scores[static_cast<size_t>(t * num_images + i)]; }
  RetrievalScoreChunk provider() const {
    return [this](int64_t begin, int64_t end, float* out) {
      std::copy(scores.begin() + begin * num_images, scores.begin() + end * num_images, out);
    };
  }
};

double median_of(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? static_cast<double>(v[n / 2]) : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double percent_at_most(const std::vector<int64_t>& ranks, int64_t k) {
  int64_t hits = 0;
  for (int64_t r : ranks) hits += r <= k ? 1 : 0;
  return 100.0 * static_cast<double>(hits) / static_cast<double>(ranks.size());
}

// Brute force straight from the definitions: TR takes the minimum over the image's
// captions of each caption's own rank in the image's column (not a threshold).
RetrievalMetrics brute_force(const Matrix& m, const std::vector<int64_t>& text_to_image) {
  std::vector<int64_t> ir, tr;
  for (int64_t t = 0; t < m.num_texts; ++t) {
    int64_t rank = 1;
    for (int64_t j = 0; j < m.num_images; ++j) rank += m.at(t, j) > m.at(t, text_to_image[t]);
    ir.push_back(rank);
  }
  for (int64_t i = 0; i < m.num_images; ++i) {
    int64_t best = std::numeric_limits<int64_t>::max();
    for (int64_t t = 0; t < m.num_texts; ++t) {
      if (text_to_image[t] != i) continue;
      int64_t rank = 1;
      for (int64_t u = 0; u < m.num_texts; ++u) rank += m.at(u, i) > m.at(t, i);
      best = std::min(best, rank);
    }
    tr.push_back(best);
  }
  RetrievalMetrics r;
  r.ir_r1 = percent_at_most(ir, 1), r.ir_r5 = percent_at_most(ir, 5),
  r.ir_r10 = percent_at_most(ir, 10);
  r.tr_r1 = percent_at_most(tr, 1), r.tr_r5 = percent_at_most(tr, 5),
  r.tr_r10 = percent_at_most(tr, 10);
  double ir_sum = 0, tr_sum = 0;
  for (int64_t x : ir) ir_sum += x;
  for (int64_t x : tr) tr_sum += x;
  r.ir_mean_rank = ir_sum / ir.size(), r.tr_mean_rank = tr_sum / tr.size();
  r.ir_median_rank = median_of(ir), r.tr_median_rank = median_of(tr);
  r.rsum = r.ir_r1 + r.ir_r5 + r.ir_r10 + r.tr_r1 + r.tr_r5 + r.tr_r10;
  return r;
}

void expect_same(const RetrievalMetrics& a, const RetrievalMetrics& b) {
  EXPECT_NEAR(a.ir_r1, b.ir_r1, 1e-9);
  EXPECT_NEAR(a.ir_r5, b.ir_r5, 1e-9);
  EXPECT_NEAR(a.ir_r10, b.ir_r10, 1e-9);
  EXPECT_NEAR(a.tr_r1, b.tr_r1, 1e-9);
  EXPECT_NEAR(a.tr_r5, b.tr_r5, 1e-9);
  EXPECT_NEAR(a.tr_r10, b.tr_r10, 1e-9);
  EXPECT_NEAR(a.ir_mean_rank, b.ir_mean_rank, 1e-9);
  EXPECT_NEAR(a.tr_mean_rank, b.tr_mean_rank, 1e-9);
  EXPECT_DOUBLE_EQ(a.ir_median_rank, b.ir_median_rank);
  EXPECT_DOUBLE_EQ(a.tr_median_rank, b.tr_median_rank);
  EXPECT_NEAR(a.rsum, b.rsum, 1e-9);
}

// Random problem: every image gets at least one caption, the rest assigned at random
// and shuffled so an image's captions fall in different chunks. `levels` > 0 draws
// scores from that many values so ties are frequent; a small positive boost makes
// recalls land between 0 and 100 rather than near chance.
void check_random(int64_t num_images, int64_t num_texts, int levels, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int64_t> text_to_image(static_cast<size_t>(num_texts));
  for (int64_t t = 0; t < num_texts; ++t)
    text_to_image[t] = t < num_images ? t : std::uniform_int_distribution<int64_t>(
                                                0, num_images - 1)(rng);
  std::shuffle(text_to_image.begin(), text_to_image.end(), rng);
  Matrix m{num_images, num_texts, std::vector<float>(static_cast<size_t>(num_images * num_texts))};
  std::normal_distribution<float> normal(0.f, 1.f);
  std::uniform_int_distribution<int> level(0, std::max(levels - 1, 0));
  for (int64_t t = 0; t < num_texts; ++t)
    for (int64_t i = 0; i < num_images; ++i) {
      float s = levels > 0 ? static_cast<float>(level(rng)) : normal(rng);
      if (text_to_image[t] == i) s += levels > 0 ? 1.f : 1.5f;
      m.scores[t * num_images + i] = s;
    }
  const RetrievalMetrics expected = brute_force(m, text_to_image);
  for (int64_t chunk : {int64_t{1}, int64_t{7}, num_texts + 13}) {
    SCOPED_TRACE(::testing::Message() << num_images << " images, " << num_texts << " texts, levels "
                                    << levels << ", chunk " << chunk);
    const RetrievalMetrics got =
        retrieval_metrics(num_images, num_texts, text_to_image, m.provider(), chunk);
    EXPECT_EQ(got.num_images, num_images);
    EXPECT_EQ(got.num_texts, num_texts);
    expect_same(got, expected);
  }
}

TEST(RetrievalMetrics, MatchesBruteForceOnRandomMatrices) {
  check_random(1, 1, 0, 1);
  check_random(1, 4, 0, 2);
  check_random(3, 7, 0, 3);
  check_random(10, 50, 0, 4);
  check_random(37, 80, 0, 5);
  check_random(64, 320, 0, 6);
}

TEST(RetrievalMetrics, MatchesBruteForceWithManyTies) {
  check_random(12, 40, 3, 7);
  check_random(30, 150, 2, 8);
}

// Random problems must not be trivial, or the comparison above proves little.
TEST(RetrievalMetrics, RandomProblemIsNotTrivial) {
  std::mt19937 rng(5);
  const int64_t images = 37, texts = 80;
  std::vector<int64_t> map(texts);
  for (int64_t t = 0; t < texts; ++t) map[t] = t % images;
  Matrix m{images, texts, std::vector<float>(images * texts)};
  std::normal_distribution<float> normal(0.f, 1.f);
  for (int64_t t = 0; t < texts; ++t)
    for (int64_t i = 0; i < images; ++i) m.scores[t * images + i] = normal(rng) + (map[t] == i);
  const RetrievalMetrics r = retrieval_metrics(images, texts, map, m.provider(), 7);
  EXPECT_GT(r.ir_r10, 0.0);
  EXPECT_LT(r.ir_r10, 100.0);
  EXPECT_GT(r.ir_mean_rank, 1.0);
}

// 3 images, 5 captions (captions 0,1 -> image 0; 2 -> image 1; 3,4 -> image 2).
// Rows = captions, columns = images.
//   t0 [0.9 0.1 0.3]  own 0.9, nothing higher                    IR rank 1
//   t1 [0.2 0.5 0.4]  own 0.2, 0.5 and 0.4 higher                IR rank 3
//   t2 [0.6 0.6 0.1]  own 0.6, tie with image 0 does not count   IR rank 1
//   t3 [0.8 0.7 0.7]  own 0.7, 0.8 higher (tie not counted)      IR rank 2
//   t4 [0.1 0.2 0.0]  own 0.0, 0.1 and 0.2 higher                IR rank 3
// IR ranks 1 3 1 2 3: R@1 = 2/5 = 40%, R@5 = R@10 = 100%, mean 10/5 = 2, median 2.
// TR, column by column:
//   image 0 [0.9 0.2 0.6 0.8 0.1], best caption t0 = 0.9, none higher   TR rank 1
//   image 1 [0.1 0.5 0.6 0.7 0.2], its caption t2 = 0.6, 0.7 higher     TR rank 2
//   image 2 [0.3 0.4 0.1 0.7 0.0], best caption t3 = 0.7, none higher   TR rank 1
// TR ranks 1 2 1: R@1 = 2/3 = 66.67%, R@5 = R@10 = 100%, mean 4/3, median 1.
// rsum = 40 + 100 + 100 + 200/3 + 100 + 100 = 506.67.
TEST(RetrievalMetrics, HandWorkedExample) {
  const Matrix m{3, 5, {0.9f, 0.1f, 0.3f, 0.2f, 0.5f, 0.4f, 0.6f, 0.6f, 0.1f,
                        0.8f, 0.7f, 0.7f, 0.1f, 0.2f, 0.0f}};
  for (int64_t chunk : {1, 2, 256}) {
    const RetrievalMetrics r = retrieval_metrics(3, 5, {0, 0, 1, 2, 2}, m.provider(), chunk);
    EXPECT_DOUBLE_EQ(r.ir_r1, 40.0);
    EXPECT_DOUBLE_EQ(r.ir_r5, 100.0);
    EXPECT_DOUBLE_EQ(r.ir_r10, 100.0);
    EXPECT_DOUBLE_EQ(r.ir_mean_rank, 2.0);
    EXPECT_DOUBLE_EQ(r.ir_median_rank, 2.0);
    EXPECT_DOUBLE_EQ(r.tr_r1, 200.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.tr_r5, 100.0);
    EXPECT_DOUBLE_EQ(r.tr_r10, 100.0);
    EXPECT_DOUBLE_EQ(r.tr_mean_rank, 4.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.tr_median_rank, 1.0);
    EXPECT_NEAR(r.rsum, 540.0 + 200.0 / 3.0 - 100.0, 1e-9);
  }
}

// 2 images, 2 captions, both directions wrong at rank 1 somewhere; even counts.
//   t0 -> image 0 [0.1 0.9]: 0.9 higher, IR rank 2
//   t1 -> image 1 [0.3 0.8]: nothing higher, IR rank 1
// IR ranks 2 1: R@1 50%, mean 1.5, median (1 + 2) / 2 = 1.5.
//   image 0 column [0.1 0.3]: its caption 0.1, 0.3 higher, TR rank 2
//   image 1 column [0.9 0.8]: its caption 0.8, 0.9 higher, TR rank 2
// TR ranks 2 2: R@1 0%, R@5 100%, mean 2, median 2.
TEST(RetrievalMetrics, HandWorkedEvenCounts) {
  const Matrix m{2, 2, {0.1f, 0.9f, 0.3f, 0.8f}};
  const RetrievalMetrics r = retrieval_metrics(2, 2, {0, 1}, m.provider(), 1);
  EXPECT_DOUBLE_EQ(r.ir_r1, 50.0);
  EXPECT_DOUBLE_EQ(r.ir_mean_rank, 1.5);
  EXPECT_DOUBLE_EQ(r.ir_median_rank, 1.5);
  EXPECT_DOUBLE_EQ(r.tr_r1, 0.0);
  EXPECT_DOUBLE_EQ(r.tr_r5, 100.0);
  EXPECT_DOUBLE_EQ(r.tr_mean_rank, 2.0);
  EXPECT_DOUBLE_EQ(r.tr_median_rank, 2.0);
}

// R@5 and R@10 differ when ranks fall between them: 12 images, one caption each,
// caption t's own image has 6 higher scores for t < 6 (rank 7) and none otherwise.
TEST(RetrievalMetrics, RecallCutoffs) {
  const int64_t n = 12;
  Matrix m{n, n, std::vector<float>(n * n, 0.f)};
  std::vector<int64_t> map(n);
  for (int64_t t = 0; t < n; ++t) {
    map[t] = t;
    m.scores[t * n + t] = 0.5f;
    if (t < 6)
      for (int64_t j = 0, placed = 0; placed < 6; ++j)
        if (j != t) m.scores[t * n + j] = 1.f, ++placed;
  }
  const RetrievalMetrics r = retrieval_metrics(n, n, map, m.provider(), 5);
  EXPECT_DOUBLE_EQ(r.ir_r1, 50.0);
  EXPECT_DOUBLE_EQ(r.ir_r5, 50.0);
  EXPECT_DOUBLE_EQ(r.ir_r10, 100.0);
  EXPECT_DOUBLE_EQ(r.ir_mean_rank, (6 * 7 + 6 * 1) / 12.0);
  EXPECT_DOUBLE_EQ(r.ir_median_rank, 4.0);  // sorted ranks: six 1s then six 7s
}

TEST(RetrievalMetrics, CallsProviderOnConsecutiveRangesWithinChunk) {
  const Matrix m{2, 5, {1, 0, 1, 0, 0, 1, 0, 1, 1, 0}};
  std::vector<std::pair<int64_t, int64_t>> calls;
  auto provider = [&](int64_t b, int64_t e, float* out) {
    calls.emplace_back(b, e);
    m.provider()(b, e, out);
  };
  retrieval_metrics(2, 5, {0, 0, 1, 1, 0}, provider, 2);
  const std::vector<std::pair<int64_t, int64_t>> pass = {{0, 2}, {2, 4}, {4, 5}};
  std::vector<std::pair<int64_t, int64_t>> expected = pass;
  expected.insert(expected.end(), pass.begin(), pass.end());
  EXPECT_EQ(calls, expected);
}

TEST(RetrievalMetrics, RefusesBadInputs) {
  const Matrix m{2, 3, {0, 0, 0, 0, 0, 0}};
  auto run = [&](int64_t images, int64_t texts, std::vector<int64_t> map, int64_t chunk) {
    retrieval_metrics(images, texts, map, m.provider(), chunk);
  };
  EXPECT_THROW(run(2, 3, {0, 2, 1}, 4), Error);   // image index out of range
  EXPECT_THROW(run(2, 3, {0, -1, 1}, 4), Error);  // negative image index
  EXPECT_THROW(run(2, 3, {0, 0, 0}, 4), Error);   // image 1 has no caption
  EXPECT_THROW(run(2, 3, {0, 1}, 4), Error);      // map shorter than the captions
  EXPECT_THROW(run(2, 3, {0, 1, 1}, 0), Error);   // chunk of zero
  EXPECT_THROW(run(0, 3, {0, 1, 1}, 4), Error);   // no images
  EXPECT_NO_THROW(run(2, 3, {0, 1, 1}, 4));
  try {
    run(2, 3, {0, 5, 1}, 4);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("caption 1"), std::string::npos) << e.what();
  }
}

TEST(RetrievalMetrics, RefusesNonFiniteScores) {
  Matrix m{2, 2, {0.f, 1.f, std::numeric_limits<float>::quiet_NaN(), 0.f}};
  EXPECT_THROW(retrieval_metrics(2, 2, {0, 1}, m.provider(), 1), Error);
  m.scores[2] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(retrieval_metrics(2, 2, {0, 1}, m.provider(), 1), Error);
  // A provider that fills nothing is caught rather than read as garbage.
  EXPECT_THROW(retrieval_metrics(2, 2, {0, 1}, [](int64_t, int64_t, float*) {}, 1), Error);
}

// Against tests/reference/retrieval_ref.py, which sorts each query's candidates (the
// usual evaluation code) instead of counting higher scores. Continuous scores, so no
// ties and both tie conventions agree; 5 captions per image as in COCO and Flickr30k,
// shuffled so an image's captions land in different chunks.
TEST(RetrievalMetrics, AgreesWithSortingReference) {
  const int64_t images = 40, texts = 200;
  std::mt19937 rng(11);
  std::vector<int64_t> map(texts);
  for (int64_t t = 0; t < texts; ++t) map[t] = t % images;
  std::shuffle(map.begin(), map.end(), rng);
  Matrix m{images, texts, std::vector<float>(images * texts)};
  std::normal_distribution<float> normal(0.f, 1.f);
  std::string file = fmt::format("{} {}\n", images, texts);
  for (int64_t t = 0; t < texts; ++t) file += fmt::format("{} ", map[t]);
  file += "\n";
  for (int64_t t = 0; t < texts; ++t) {
    for (int64_t i = 0; i < images; ++i) {
      m.scores[t * images + i] = normal(rng) + 1.2f * (map[t] == i);
      file += fmt::format("{:.9g} ", m.scores[t * images + i]);  // float round-trips
    }
    file += "\n";
  }
  const std::string path = testing::scratch_dir("retrieval_ref") + "/scores.txt";
  testing::write_file(path, file);
  const auto ref = nlohmann::json::parse(testing::run_reference("retrieval_ref.py", {path}));
  const RetrievalMetrics r = retrieval_metrics(images, texts, map, m.provider(), 7);
  EXPECT_NEAR(r.ir_r1, ref.at("ir_r1").get<double>(), 1e-9);
  EXPECT_NEAR(r.ir_r5, ref.at("ir_r5").get<double>(), 1e-9);
  EXPECT_NEAR(r.ir_r10, ref.at("ir_r10").get<double>(), 1e-9);
  EXPECT_NEAR(r.tr_r1, ref.at("tr_r1").get<double>(), 1e-9);
  EXPECT_NEAR(r.tr_r5, ref.at("tr_r5").get<double>(), 1e-9);
  EXPECT_NEAR(r.tr_r10, ref.at("tr_r10").get<double>(), 1e-9);
  EXPECT_NEAR(r.ir_mean_rank, ref.at("ir_mean_rank").get<double>(), 1e-9);
  EXPECT_NEAR(r.tr_mean_rank, ref.at("tr_mean_rank").get<double>(), 1e-9);
  EXPECT_DOUBLE_EQ(r.ir_median_rank, ref.at("ir_median_rank").get<double>());
  EXPECT_DOUBLE_EQ(r.tr_median_rank, ref.at("tr_median_rank").get<double>());
  EXPECT_NEAR(r.rsum, ref.at("rsum").get<double>(), 1e-9);
  // Not a degenerate problem: recalls strictly between 0 and 100.
  EXPECT_GT(r.ir_r1, 0.0);
  EXPECT_LT(r.ir_r10, 100.0);
  EXPECT_GT(r.tr_r1, 0.0);
  EXPECT_LT(r.tr_r1, 100.0);
}

TEST(RetrievalMetrics, ChanceRecall) {
  EXPECT_DOUBLE_EQ(chance_recall(1, 1000), 0.1);
  EXPECT_DOUBLE_EQ(chance_recall(10, 1000), 1.0);
  EXPECT_DOUBLE_EQ(chance_recall(10, 4), 100.0);
  EXPECT_THROW(chance_recall(1, 0), Error);
}

}  // namespace
}  // namespace cotrain
