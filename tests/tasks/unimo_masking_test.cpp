// Span masking (Geometric span lengths) and masked-region choice with IoU expansion.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "cotrain/objectives/region_masking.h"
#include "cotrain/objectives/span_masking.h"

using namespace cotrain;
using namespace cotrain::objectives;

namespace {
SpanMaskingOptions span_options() {
  SpanMaskingOptions o;
  o.mask_prob = 0.15;
  o.p = 0.2;
  o.max_span = 10;
  o.mask_id = 4;
  o.vocab_size = 1000;
  return o;
}
}  // namespace

TEST(UnimoSpanMasking, BudgetIsExactAndSpecialsStay) {
  Rng rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 20 + static_cast<size_t>(trial % 90);
    std::vector<int64_t> ids(n);
    std::iota(ids.begin(), ids.end(), 100);
    std::vector<int64_t> original = ids;
    std::vector<bool> maskable(n, true);
    maskable.front() = maskable.back() = false;
    auto labels = mask_spans(ids, maskable, span_options(), rng);
    const int64_t budget = std::llround(0.15 * static_cast<double>(n - 2));
    int64_t chosen = 0;
    for (size_t i = 0; i < n; ++i) {
      if (labels[i] != -100) {
        ++chosen;
        EXPECT_EQ(labels[i], original[i]);
      } else {
        EXPECT_EQ(ids[i], original[i]) << "an unlabelled position changed";
      }
    }
    EXPECT_EQ(labels.front(), -100);
    EXPECT_EQ(labels.back(), -100);
    EXPECT_EQ(chosen, std::max<int64_t>(1, budget)) << "n=" << n;
  }
}

// Spans are contiguous: with long sequences and a budget of many tokens, the masked
// positions form runs whose mean length reflects Geometric(0.2) (mean 5, cut at 10,
// and cut by the budget and by neighbouring spans), far above token masking's ~1.
TEST(UnimoSpanMasking, RunsAreLong) {
  Rng rng(3);
  int64_t runs = 0, masked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = 400;
    std::vector<int64_t> ids(n, 50);
    std::vector<bool> maskable(n, true);
    auto labels = mask_spans(ids, maskable, span_options(), rng);
    for (size_t i = 0; i < n; ++i)
      if (labels[i] != -100) {
        ++masked;
        if (i == 0 || labels[i - 1] == -100) ++runs;
      }
  }
  const double mean_run = static_cast<double>(masked) / static_cast<double>(runs);
  // Expected mean of min(1 + Geom(0.2), 10) is 1 + sum_{k=1..9} 0.8^k = 4.46; merged
  // adjacent spans make runs slightly longer.
  EXPECT_GT(mean_run, 4.0);
  EXPECT_LT(mean_run, 6.0);
}

TEST(UnimoSpanMasking, EightyTenTenPerSpan) {
  Rng rng(11);
  int64_t mask = 0, kept = 0, other = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<int64_t> ids(60, 500);
    std::vector<bool> maskable(60, true);
    auto labels = mask_spans(ids, maskable, span_options(), rng);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (labels[i] == -100) continue;
      if (ids[i] == 4) ++mask;
      else if (ids[i] == 500) ++kept;
      else ++other;
    }
  }
  const double total = static_cast<double>(mask + kept + other);
  EXPECT_NEAR(mask / total, 0.8, 0.03);
  EXPECT_NEAR(kept / total, 0.1, 0.03);  // random replacements hit 500 rarely (1/1000)
  EXPECT_NEAR(other / total, 0.1, 0.03);
}

TEST(UnimoSpanMasking, NothingMaskable) {
  Rng rng(1);
  std::vector<int64_t> ids = {1, 2, 3};
  auto labels = mask_spans(ids, {false, false, false}, span_options(), rng);
  EXPECT_EQ(labels, std::vector<int64_t>(3, -100));
}

TEST(UnimoRegionMasking, Iou) {
  const float a[4] = {0, 0, 10, 10}, b[4] = {5, 0, 15, 10}, c[4] = {20, 20, 30, 30};
  EXPECT_NEAR(box_iou(a, b), 50.0 / 150.0, 1e-12);
  EXPECT_EQ(box_iou(a, c), 0.0);
  EXPECT_NEAR(box_iou(a, a), 1.0, 1e-12);
}

TEST(UnimoRegionMasking, OverlappingRegionsAreMaskedToo) {
  // Region 1 overlaps region 0 with IoU 1/3 and region 2 with IoU 0.6; region 3 is apart.
  const std::vector<float> boxes = {0, 0, 10, 10,  5, 0, 15, 10,  0, 0, 10, 6,  50, 50, 60, 60};
  int both = 0, anchors_at_zero = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    Rng rng(seed);
    auto masked = choose_masked_regions(boxes.data(), 4, 0.15, 0.3, rng);
    Rng replay(seed);
    std::vector<bool> anchor(4);
    bool any = false;
    for (int i = 0; i < 4; ++i) any |= (anchor[i] = replay.bernoulli(0.15));
    if (!any) anchor[static_cast<size_t>(replay.below(4))] = true;
    for (int i = 0; i < 4; ++i) {
      bool expect = anchor[i];
      for (int a = 0; a < 4; ++a)
        if (anchor[a] && box_iou(&boxes[4 * i], &boxes[4 * a]) > 0.3) expect = true;
      EXPECT_EQ(masked[i], expect) << "seed " << seed << " region " << i;
    }
    if (anchor[0]) {
      ++anchors_at_zero;
      both += masked[1] && masked[2];
    }
  }
  EXPECT_GT(anchors_at_zero, 0);
  EXPECT_EQ(both, anchors_at_zero) << "an anchor at region 0 must hide its overlapping regions 1 and 2";
}
