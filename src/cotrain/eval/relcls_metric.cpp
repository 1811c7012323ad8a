#include "cotrain/eval/relcls_metric.h"

#include "cotrain/core/error.h"

namespace cotrain::eval {

RelclsScore score_relcls(const std::vector<int64_t>& gold, const std::vector<int64_t>& predicted, int64_t na) {
  if (gold.size() != predicted.size())
    fail("relcls metric: {} gold labels but {} predictions", gold.size(), predicted.size());
  RelclsScore s;
  s.examples = static_cast<int64_t>(gold.size());
  for (size_t i = 0; i < gold.size(); ++i) {
    const bool right = gold[i] == predicted[i];
    s.correct += right ? 1 : 0;
    s.predicted_relations += predicted[i] != na ? 1 : 0;
    s.gold_relations += gold[i] != na ? 1 : 0;
    s.correct_relations += right && gold[i] != na ? 1 : 0;
  }
  auto ratio = [](int64_t a, int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
  s.accuracy = ratio(s.correct, s.examples);
  s.precision = ratio(s.correct_relations, s.predicted_relations);
  s.recall = ratio(s.correct_relations, s.gold_relations);
  s.micro_f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  return s;
}

}  // namespace cotrain::eval
