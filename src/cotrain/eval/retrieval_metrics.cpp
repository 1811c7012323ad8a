#include "cotrain/eval/retrieval_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cotrain/core/error.h"

namespace cotrain {
namespace {

void validate(int64_t num_images, int64_t num_texts, const std::vector<int64_t>& text_to_image,
              int64_t chunk) {
  if (num_images < 1) fail("retrieval: num_images = {}: need at least one image", num_images);
  if (num_texts < 1) fail("retrieval: num_texts = {}: need at least one caption", num_texts);
  if (chunk < 1) fail("retrieval: chunk = {}: must be at least 1", chunk);
  if (static_cast<int64_t>(text_to_image.size()) != num_texts)
    fail("retrieval: text_to_image has {} entries for {} captions", text_to_image.size(),
         num_texts);
  std::vector<char> has_caption(static_cast<size_t>(num_images), 0);
  for (int64_t t = 0; t < num_texts; ++t) {
    const int64_t image = text_to_image[static_cast<size_t>(t)];
    if (image < 0 || image >= num_images)
      fail("retrieval: caption {}: image {} outside [0, {})", t, image, num_images);
    has_caption[static_cast<size_t>(image)] = 1;
  }
  for (int64_t i = 0; i < num_images; ++i)
    if (!has_caption[static_cast<size_t>(i)])
      fail("retrieval: image {}: has no caption, so text retrieval cannot rank it", i);
}

// Calls score_chunk for [begin, end) into `scores` and refuses non-finite values:
// NaN compares false with everything and would silently rank as first.
void fetch_chunk(const RetrievalScoreChunk& score_chunk, int64_t begin, int64_t end,
                 int64_t num_images, std::vector<float>& scores) {
  const size_t count = static_cast<size_t>((end - begin) * num_images);
  std::fill(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(count),
            std::numeric_limits<float>::quiet_NaN());  // unfilled entries fail below
  score_chunk(begin, end, scores.data());
  for (size_t k = 0; k < count; ++k)
    if (!std::isfinite(scores[k]))
      fail("retrieval: score of caption {} against image {} is not finite ({})",
           begin + static_cast<int64_t>(k) / num_images,
           static_cast<int64_t>(k) % num_images, scores[k]);
}

struct RankSummary {
  double r1, r5, r10, mean, median;
};

RankSummary summarize(std::vector<int64_t> ranks) {
  const double n = static_cast<double>(ranks.size());
  auto recall = [&](int64_t k) {
    return 100.0 * static_cast<double>(std::count_if(ranks.begin(), ranks.end(),
                                                     [k](int64_t r) { return r <= k; })) / n;
  };
  RankSummary s{recall(1), recall(5), recall(10), 0, 0};
  double total = 0;
  for (int64_t r : ranks) total += static_cast<double>(r);
  s.mean = total / n;
  std::sort(ranks.begin(), ranks.end());
  const size_t mid = ranks.size() / 2;
  s.median = ranks.size() % 2 ? static_cast<double>(ranks[mid])
                              : 0.5 * static_cast<double>(ranks[mid - 1] + ranks[mid]);
  return s;
}

}  // namespace

RetrievalMetrics retrieval_metrics(int64_t num_images, int64_t num_texts,
                                   const std::vector<int64_t>& text_to_image,
                                   const RetrievalScoreChunk& score_chunk, int64_t chunk) {
  validate(num_images, num_texts, text_to_image, chunk);
  chunk = std::min(chunk, num_texts);
  std::vector<float> scores(static_cast<size_t>(chunk * num_images));

  // Pass 1: IR rank of every caption, and each image's best caption score (the
  // threshold its TR rank is counted against: the best caption has the best rank).
  std::vector<int64_t> ir_ranks(static_cast<size_t>(num_texts));
  std::vector<float> best_positive(static_cast<size_t>(num_images),
                                   -std::numeric_limits<float>::infinity());
  for (int64_t begin = 0; begin < num_texts; begin += chunk) {
    const int64_t end = std::min(begin + chunk, num_texts);
    fetch_chunk(score_chunk, begin, end, num_images, scores);
    for (int64_t t = begin; t < end; ++t) {
      const float* row = scores.data() + (t - begin) * num_images;
      const int64_t image = text_to_image[static_cast<size_t>(t)];
      const float positive = row[image];
      int64_t higher = 0;
      for (int64_t j = 0; j < num_images; ++j) higher += row[j] > positive;
      ir_ranks[static_cast<size_t>(t)] = 1 + higher;
      float& best = best_positive[static_cast<size_t>(image)];
      best = std::max(best, positive);
    }
  }

  // Pass 2: TR rank of image i = 1 + number of captions (any image) scoring strictly
  // above its best caption; counts accumulate chunk by chunk.
  std::vector<int64_t> tr_higher(static_cast<size_t>(num_images), 0);
  for (int64_t begin = 0; begin < num_texts; begin += chunk) {
    const int64_t end = std::min(begin + chunk, num_texts);
    fetch_chunk(score_chunk, begin, end, num_images, scores);
    for (int64_t t = begin; t < end; ++t) {
      const float* row = scores.data() + (t - begin) * num_images;
      for (int64_t j = 0; j < num_images; ++j)
        tr_higher[static_cast<size_t>(j)] += row[j] > best_positive[static_cast<size_t>(j)];
    }
  }
  std::vector<int64_t> tr_ranks(static_cast<size_t>(num_images));
  for (int64_t i = 0; i < num_images; ++i)
    tr_ranks[static_cast<size_t>(i)] = 1 + tr_higher[static_cast<size_t>(i)];

  const RankSummary ir = summarize(std::move(ir_ranks));
  const RankSummary tr = summarize(std::move(tr_ranks));
  RetrievalMetrics m;
  m.num_images = num_images;
  m.num_texts = num_texts;
  m.ir_r1 = ir.r1, m.ir_r5 = ir.r5, m.ir_r10 = ir.r10;
  m.ir_mean_rank = ir.mean, m.ir_median_rank = ir.median;
  m.tr_r1 = tr.r1, m.tr_r5 = tr.r5, m.tr_r10 = tr.r10;
  m.tr_mean_rank = tr.mean, m.tr_median_rank = tr.median;
  m.rsum = m.ir_r1 + m.ir_r5 + m.ir_r10 + m.tr_r1 + m.tr_r5 + m.tr_r10;
  return m;
}

double chance_recall(int64_t k, int64_t n) {
  if (n < 1) fail("retrieval: chance recall over {} candidates: need at least one", n);
  if (k < 0) fail("retrieval: chance recall at k = {}: k must not be negative", k);
  return 100.0 * static_cast<double>(std::min(k, n)) / static_cast<double>(n);
}

}  // namespace cotrain
