// `cotrain eval --task docred`: DocRED F1 and Ign F1 of predictions in DocRED's
// submission format; with --model, the predictions of a model fine-tuned with
// `cotrain finetune --task docred` are made first (and written to --out).
#include <CLI/CLI.hpp>

#include <iostream>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/tasks/docred_eval.h"
#include "cotrain/tasks/docred_task.h"
#include "eval_command.h"

namespace cotrain::app {
namespace {

struct DocredEvalOptions {
  std::string gold, predictions, train;
  double threshold = -1;
};

Runner setup(CLI::App& cmd, std::shared_ptr<const EvalCommon> common) {
  auto o = std::make_shared<DocredEvalOptions>();
  cmd.add_option("--gold", o->gold, "docred: gold documents (DocRED JSON, e.g. dev.json)");
  cmd.add_option("--predictions", o->predictions,
                 "docred: predictions in DocRED's submission format: [{title, h_idx, t_idx, r, evidence}]");
  cmd.add_option("--train", o->train, "docred: training documents; enables Ign F1 (facts seen in training are ignored)");
  cmd.add_option("--threshold", o->threshold,
                 "docred with --model: predict a relation when its probability is at least this (default: the "
                 "threshold chosen on dev by 'cotrain finetune', docred_threshold.json in the model folder)");
  return [o, common] {
    if (o->gold.empty()) fail("eval --task docred: --gold FILE is required");
    if (!common->model.empty()) {
      if (!o->predictions.empty()) fail("eval --task docred: give --model (to predict) or --predictions, not both");
      if (o->threshold != -1 && !(o->threshold >= 0 && o->threshold <= 1))
        fail("eval --task docred: --threshold must be in [0, 1], got {}", o->threshold);
      const nlohmann::json out = tasks::evaluate_docred_model(common->model, o->gold, o->train, o->threshold,
                                                              common->out, common->batch_size);
      std::cout << out.dump() << "\n";
      return 0;
    }
    if (o->predictions.empty()) fail("eval --task docred: --predictions FILE (or --model DIR) is required");
    const eval::DocredScore s = tasks::evaluate_docred_files(o->gold, o->predictions, o->train);
    nlohmann::json out = {{"task", "docred"},
                          {"precision", s.precision},
                          {"recall", s.recall},
                          {"f1", s.f1},
                          {"predictions", s.predictions},
                          {"gold", s.gold},
                          {"correct", s.correct}};
    if (!o->train.empty()) {
      out["ign_precision"] = s.ign_precision;
      out["ign_f1"] = s.ign_f1;
      out["correct_in_train"] = s.correct_in_train;
    }
    std::cout << out.dump() << "\n";
    return 0;
  };
}

// F1 is micro-averaged over unique (title, head, tail, relation) facts. Ign F1 removes
// correct predictions whose (head mention name, tail mention name, relation) occurs in
// --train from the numerator and the denominator of precision; recall is unchanged
// (DocRED's definition).
// With --model DIR the fine-tuned model predicts on --gold first; the predictions go
// to --out (DocRED submission format) and are scored the same way.
EvalRegistration reg("docred",
                     "DocRED F1 and Ign F1 of --predictions (submission format), or of the predictions of a "
                     "'finetune --task docred' model (--model DIR, written to --out), against --gold "
                     "(Ign F1 needs --train)",
                     setup);

}  // namespace
}  // namespace cotrain::app
