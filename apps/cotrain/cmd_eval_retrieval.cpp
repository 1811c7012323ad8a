// `cotrain eval --task retrieval`: image and text retrieval R@1/5/10, mean and median
// rank of a model folder on prepared shards or a captions file, zero-shot and (with
// --rerank-k) re-ranked by the model's pair score head; chance levels alongside. The
// work is in src/cotrain/tasks/retrieval_eval.h.
#include <CLI/CLI.hpp>

#include <iostream>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/tasks/retrieval_eval.h"
#include "eval_command.h"

namespace cotrain::app {
namespace {

struct RetrievalEvalArgs {
  int64_t rerank_k = 0;
  std::string splits;
  int64_t max_regions = 0, max_length = 0, grid = 4, image_size = 64, pool = 8;
};

Runner setup(CLI::App& cmd, std::shared_ptr<const EvalCommon> common) {
  auto a = std::make_shared<RetrievalEvalArgs>();
  cmd.add_option("--rerank-k", a->rerank_k,
                 "retrieval: re-rank each query's top k (by embedding similarity) with the pair score head; 0: off")
      ->default_val(0);
  cmd.add_option("--retrieval-splits", a->splits, "retrieval: keep only captions of these splits (comma-separated)");
  cmd.add_option("--retrieval-max-regions", a->max_regions, "retrieval: regions per image kept (0: all)")
      ->default_val(0);
  cmd.add_option("--retrieval-max-length", a->max_length, "retrieval: tokens per text (0: the model's limit)")
      ->default_val(0);
  cmd.add_option("--retrieval-grid", a->grid, "retrieval, caption files: G x G patches per image")->default_val(4);
  cmd.add_option("--retrieval-image-size", a->image_size, "retrieval, caption files: images resized to S x S")
      ->default_val(64);
  cmd.add_option("--retrieval-pool", a->pool, "retrieval, caption files: patches pooled to P x P")->default_val(8);
  return [a, common] {
    if (common->model.empty()) fail("eval --task retrieval: --model DIR is required");
    if (common->data.size() != 1) fail("eval --task retrieval: give one --data (shards folder or captions file)");
    tasks::RetrievalSetOptions so;
    so.splits = a->splits;
    so.grid.grid = a->grid;
    so.grid.image_size = a->image_size;
    so.grid.pool = a->pool;
    const tasks::RetrievalSet set = tasks::load_retrieval_set(common->data.front(), so);
    tasks::RetrievalScorerOptions o;
    o.batch_size = common->batch_size;
    o.max_regions = a->max_regions;
    o.max_length = a->max_length;
    auto scorer = tasks::make_retrieval_scorer(common->model, o);
    tasks::RetrievalEvalOptions eo;
    eo.rerank_k = a->rerank_k;
    const tasks::RetrievalEvalResult r = tasks::evaluate_retrieval(*scorer, set, eo);
    const nlohmann::json report = tasks::retrieval_report(*scorer, set, r);
    if (!common->out.empty()) write_file_atomically(common->out, report.dump() + "\n");
    std::cout << report.dump() << "\n";
    return 0;
  };
}

EvalRegistration reg("retrieval",
                     "image/text retrieval R@1/5/10, mean/median rank of --model on --data (shards or captions); "
                     "zero-shot, --rerank-k K re-ranks with the pair score head",
                     setup);

}  // namespace
}  // namespace cotrain::app
