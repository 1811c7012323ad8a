// Sentence-level relation classification metrics (erica.md "Sentence-level RE";
// TACRED's convention): accuracy over all examples, and micro precision / recall /
// F1 over the relations other than NA -- a prediction counts in precision's
// denominator when it is not NA, a gold label in recall's when it is not NA, and a
// correct non-NA prediction in both numerators. Ratios with a zero denominator are 0.
#pragma once
#include <cstdint>
#include <vector>

namespace cotrain::eval {

struct RelclsScore {
  int64_t examples = 0, correct = 0;
  int64_t predicted_relations = 0, gold_relations = 0, correct_relations = 0;  // non-NA
  double accuracy = 0, precision = 0, recall = 0, micro_f1 = 0;
};

// gold and predicted are class ids of the same length; `na` is the NA class id.
// Different lengths are a cotrain::Error.
RelclsScore score_relcls(const std::vector<int64_t>& gold, const std::vector<int64_t>& predicted, int64_t na);

}  // namespace cotrain::eval
