// Image-text retrieval metrics (unimo.md "Image-text retrieval"; issue 4):
// image retrieval (IR) and text retrieval (TR) recall at 1/5/10, mean and median
// rank, computed from a score provider chunk by chunk so the full
// [num_texts x num_images] score matrix is never held (Flickr30k test: 5000 x 1000,
// COCO 5k: 25000 x 5000).
//
// Definitions (ranks are 1-based):
// - IR: each caption t is a query; its rank is the rank of its own image
//   text_to_image[t] among all images by score s[t][.].
// - TR: each image i is a query; its rank is the best (smallest) rank among its
//   captions, all captions of the dataset ranked by score s[.][i].
// - Ties: a rank counts only strictly greater scores, rank = 1 + #{strictly higher},
//   so a tie never hurts the positive (the optimistic convention). Callers comparing
//   with a tool that breaks ties by index must avoid exact ties.
// - Recalls are percentages; median of an even count is the mean of the two middle
//   ranks (numpy's median); rsum is the sum of the six recalls.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace cotrain {

struct RetrievalMetrics {
  int64_t num_images = 0;
  int64_t num_texts = 0;
  double ir_r1 = 0, ir_r5 = 0, ir_r10 = 0;  // percent of captions whose image ranks <= k
  double tr_r1 = 0, tr_r5 = 0, tr_r10 = 0;  // percent of images with a caption ranked <= k
  double ir_mean_rank = 0, ir_median_rank = 0;
  double tr_mean_rank = 0, tr_median_rank = 0;
  double rsum = 0;
};

// Fills out[(t - text_begin) * num_images + j] = score of text t against image j
// for t in [text_begin, text_end): row-major, one row per text, higher = closer.
using RetrievalScoreChunk =
    std::function<void(int64_t text_begin, int64_t text_end, float* out)>;

// Computes both directions. text_to_image[t] is the image of caption t; every image
// must have at least one caption. score_chunk is called on consecutive text ranges
// of at most `chunk` texts, twice per range (pass 1: IR ranks and each image's best
// caption score; pass 2: TR counts against those thresholds), so it must return the
// same scores both times. Memory: chunk * num_images floats plus O(num_texts).
// Throws cotrain::Error on bad arguments or a non-finite score.
RetrievalMetrics retrieval_metrics(int64_t num_images, int64_t num_texts,
                                   const std::vector<int64_t>& text_to_image,
                                   const RetrievalScoreChunk& score_chunk,
                                   int64_t chunk = 256);

// Expected R@k in percent when the positive's rank is uniform over n candidates
// (one positive): 100 * min(k, n) / n. The baseline printed next to real recalls.
double chance_recall(int64_t k, int64_t n);

}  // namespace cotrain
