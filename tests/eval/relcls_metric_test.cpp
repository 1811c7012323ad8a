// Relation classification metric on a hand-worked case (NA = class 0).
#include <gtest/gtest.h>

#include "cotrain/core/error.h"
#include "cotrain/eval/relcls_metric.h"

using cotrain::eval::score_relcls;

// gold:      1 2 0 0 1 3
// predicted: 1 0 2 0 3 3
// accuracy 3/6 (positions 0, 3, 5); non-NA predictions 4 (1, 2, 3, 3), non-NA gold 4
// (1, 2, 1, 3), correct non-NA 2 (positions 0 and 5): P = R = 1/2, F1 = 1/2. The
// correct NA at position 3 counts for accuracy only.
TEST(RelclsMetric, HandWorked) {
  const auto s = score_relcls({1, 2, 0, 0, 1, 3}, {1, 0, 2, 0, 3, 3}, 0);
  EXPECT_EQ(s.correct, 3);
  EXPECT_DOUBLE_EQ(s.accuracy, 0.5);
  EXPECT_EQ(s.predicted_relations, 4);
  EXPECT_EQ(s.gold_relations, 4);
  EXPECT_EQ(s.correct_relations, 2);
  EXPECT_DOUBLE_EQ(s.micro_f1, 0.5);
}

// Unequal precision and recall: predicting NA everywhere but one right relation.
// gold 1 2 3 0, predicted 1 0 0 0: P = 1/1, R = 1/3, F1 = 2 * 1/3 / (4/3) = 1/2;
// accuracy 2/4. Predicting NA everywhere: F1 0 (no division by zero).
TEST(RelclsMetric, PrecisionRecallAndAllNa) {
  const auto s = score_relcls({1, 2, 3, 0}, {1, 0, 0, 0}, 0);
  EXPECT_DOUBLE_EQ(s.precision, 1.0);
  EXPECT_DOUBLE_EQ(s.recall, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.micro_f1, 0.5);
  EXPECT_DOUBLE_EQ(s.accuracy, 0.5);
  const auto none = score_relcls({1, 2}, {0, 0}, 0);
  EXPECT_DOUBLE_EQ(none.micro_f1, 0.0);
  EXPECT_DOUBLE_EQ(none.precision, 0.0);
  // NA need not be class 0.
  const auto other = score_relcls({5, 1}, {5, 5}, 5);
  EXPECT_DOUBLE_EQ(other.accuracy, 0.5);
  EXPECT_EQ(other.gold_relations, 1);
  EXPECT_EQ(other.predicted_relations, 0);
  EXPECT_THROW(score_relcls({1}, {1, 2}, 0), cotrain::Error);
}
