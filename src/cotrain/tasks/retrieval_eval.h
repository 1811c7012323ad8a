// `cotrain eval --task retrieval` (issue 4, unimo.md "Downstream"): image retrieval
// (IR: each caption finds its image) and text retrieval (TR: each image finds one of
// its captions), R@1/5/10, mean and median rank (eval/retrieval_metrics.h), scored by
// any RetrievalScorer (retrieval_scorer.h):
//   zero-shot: embedding similarity when the model has embeddings, else the pair
//     score of every (image, text) combination;
//   re-ranked (rerank_k > 0, models with both): for each query the top k candidates
//     by embedding similarity are ordered by the pair score head instead; candidates
//     beyond k keep their embedding order (so a positive outside the top k keeps its
//     zero-shot rank).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cotrain/data/regions_grid.h"
#include "cotrain/eval/retrieval_metrics.h"
#include "cotrain/tasks/retrieval_scorer.h"

namespace cotrain::tasks {

struct RetrievalSetOptions {
  // Keep only captions of these splits (comma-separated); empty keeps all. Applies to
  // shard captions (their meta "split") and to caption files.
  std::string splits;
  data::GridOptions grid;  // caption files only: how images become regions (as `cotrain prepare --from-images`)
  std::string image_root;  // caption files only: folder image paths are relative to
};

// `path`: a `cotrain prepare` output folder or shard file, or a captions file (COCO,
// Karpathy or JSONL, captions.h) whose images are read and cut into grid regions.
// Images without a caption (after the split filter) are left out. Errors name the
// file and the record; an empty result is an error.
RetrievalSet load_retrieval_set(const std::string& path, const RetrievalSetOptions& options);

struct RetrievalEvalOptions {
  int64_t rerank_k = 0;  // 0: no re-ranking
  int64_t chunk = 256;   // texts per score chunk
};

struct RetrievalEvalResult {
  std::string scoring;  // "embeddings" or "pairs"
  RetrievalMetrics zero_shot;
  std::optional<RetrievalMetrics> reranked;  // IR fields re-ranked over images, TR over texts
  int64_t rerank_k = 0;                      // the k used (at most the candidate count)
  double seconds = 0;
};

RetrievalEvalResult evaluate_retrieval(RetrievalScorer& scorer, const RetrievalSet& set,
                                       const RetrievalEvalOptions& options);

// Expected TR R@k in percent under a random ranking of all texts: the mean over images
// of P(one of its c captions among the first k of n) = 1 - prod_{j<k} (n-c-j)/(n-j).
double chance_text_recall(int64_t k, const RetrievalSet& set);

// The JSON line the command prints:
//   {"task":"retrieval","model_kind","scoring","images","texts",
//    "ir_r1","ir_r5","ir_r10","tr_r1","tr_r5","tr_r10","ir_mean_rank","ir_median_rank",
//    "tr_mean_rank","tr_median_rank","rsum",
//    "chance_r1","chance_r5","chance_r10"          (IR: one image among `images`)
//    "chance_tr_r1","chance_tr_r5","chance_tr_r10" (TR: any caption among `texts`)
//    ["rerank_k", "rerank_ir_r1", ..., "rerank_tr_median_rank", "rerank_rsum"],
//    "params","eval_s"}
nlohmann::json retrieval_report(const RetrievalScorer& scorer, const RetrievalSet& set,
                                const RetrievalEvalResult& result);

}  // namespace cotrain::tasks
