// The model families `cotrain eval --task retrieval` can score (retrieval_scorer.h):
// one entry per family, matched by config.json "architectures"[0]. Keep each entry's
// lines together so families can be added independently.
#include <memory>

#include "cotrain/tasks/retrieval_scorer.h"
#include "cotrain/tasks/unimo_retrieval_scorer.h"
#include "cotrain/tasks/vilbert_retrieval_scorer.h"

namespace cotrain::tasks {

const std::vector<RetrievalScorerEntry>& retrieval_scorers() {
  static const std::vector<RetrievalScorerEntry> entries = {
      {"unimo", "UnimoModel",
       [](const std::string& dir, const RetrievalScorerOptions& o) -> std::unique_ptr<RetrievalScorer> {
         return std::make_unique<UnimoRetrievalScorer>(dir, o);
       }},
      {"vilbert", "VILBertForVLTasks",
       [](const std::string& dir, const RetrievalScorerOptions& o) -> std::unique_ptr<RetrievalScorer> {
         return std::make_unique<VilbertRetrievalScorer>(dir, o);
       }},
  };
  return entries;
}

}  // namespace cotrain::tasks
