// `cotrain eval`: scores predictions with a task's metric.
#include <CLI/CLI.hpp>

#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "cotrain/tasks/docred_eval.h"

namespace cotrain::app {
namespace {

struct EvalOptions {
  std::string task, gold, predictions, train;
};

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<EvalOptions>();
  cmd.add_option("--task", o->task, "metric to compute: docred (F1 and Ign F1)")
      ->required()
      ->check(CLI::IsMember({"docred"}));
  cmd.add_option("--gold", o->gold, "gold documents (DocRED JSON, e.g. dev.json)")->required();
  cmd.add_option("--predictions", o->predictions,
                 "predictions in DocRED's submission format: [{title, h_idx, t_idx, r, evidence}]")
      ->required();
  cmd.add_option("--train", o->train, "training documents; enables Ign F1 (facts seen in training are ignored)");
  cmd.footer(
      "Prints one JSON object: precision, recall, f1, ign_precision, ign_f1 and the counts.\n"
      "F1 is micro-averaged over unique (title, head, tail, relation) facts. Ign F1 removes correct\n"
      "predictions whose (head mention name, tail mention name, relation) occurs in --train from the\n"
      "numerator and the denominator of precision; recall is unchanged (DocRED's definition).");
  return [o] {
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

Registration reg("eval", "score predictions: docred (F1, Ign F1)", setup);

}  // namespace
}  // namespace cotrain::app
