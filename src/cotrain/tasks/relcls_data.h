// Sentence-level relation classification data (erica.md "Sentence-level RE", TACRED /
// FewRel-like): a JSONL file, one example per line,
//   {"tokens": ["Bill", "Gates", "founded", "Microsoft", "."],
//    "h": {"pos": [0, 2]}, "t": {"pos": [3, 4]}, "relation": "org:founded_by"}
// with [begin, end) word spans. Words are tokenised one by one so that the spans map
// onto exact sub-word spans; "[CLS] words [SEP]" is cut at max_length, and an
// example whose entity does not fit is kept for scoring but cannot be trained on.
// No tensors here.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cotrain/data/docred.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::tasks {

struct RelclsRaw {
  std::vector<std::string> tokens;
  std::pair<int64_t, int64_t> h, t;  // word spans [begin, end)
  std::string relation;
};

// Reads and validates a JSONL file; problems are "FILE: line N: REASON" (skipped
// and counted with OnBadRecord::skip).
std::vector<RelclsRaw> read_relcls_jsonl(const std::string& path, data::OnBadRecord on_bad_record);

struct RelclsExample {
  std::vector<int64_t> ids;          // [CLS] .. [SEP], cut at max_length
  std::pair<int64_t, int64_t> h, t;  // token spans in ids
  bool fits = true;                  // both spans survived the cut
  int64_t label = -1;                // class id, -1 when the relation is not a known class
};

// Classes: the sorted relations of the training data (NA is one of them).
std::vector<std::string> relcls_classes(const std::vector<RelclsRaw>& train);
RelclsExample prepare_relcls_example(const RelclsRaw& raw, const text::Tokenizer& tokenizer, int64_t max_length,
                                     const std::vector<std::string>& classes);

}  // namespace cotrain::tasks
