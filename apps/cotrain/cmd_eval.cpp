// `cotrain eval`: evaluates a model or scores predictions with a task's metric. The
// evaluations themselves live in cmd_eval_<task>.cpp (see eval_command.h).
#include <CLI/CLI.hpp>

#include <map>

#include "common_options.h"
#include "cotrain/core/error.h"
#include "eval_command.h"

namespace cotrain::app {

std::vector<EvalEntry>& evaluations() {
  static std::vector<EvalEntry> entries;
  return entries;
}

EvalRegistration::EvalRegistration(std::string name, std::string summary, EvalSetup setup) {
  evaluations().push_back({std::move(name), std::move(summary), std::move(setup)});
}

namespace {

Runner setup(CLI::App& cmd) {
  auto common = std::make_shared<EvalCommon>();
  std::vector<std::string> names;
  std::string list;
  for (const auto& e : evaluations()) {
    names.push_back(e.name);
    list += "  " + e.name + ": " + e.summary + "\n";
  }
  cmd.add_option("--task", common->task, "what to evaluate (see the list below)")
      ->required()
      ->check(CLI::IsMember(names));
  cmd.add_option("--model", common->model, "trained model folder (a checkpoint, or a run folder: its latest)");
  cmd.add_option("--data", common->data, "evaluation files");
  cmd.add_option("--out", common->out, "where to write predictions and reports");
  cmd.add_option("--batch-size", common->batch_size, "examples per forward pass")->default_val(64);
  cmd.add_option("--threads", common->threads, "CPU threads (0: all cores)")->default_val(0);
  auto runners = std::make_shared<std::map<std::string, Runner>>();
  for (const auto& e : evaluations()) (*runners)[e.name] = e.setup(cmd, common);
  cmd.footer("Tasks:\n" + list + "\nEach evaluation prints one JSON object on standard output.");
  return [common, runners] {
    apply_thread_count(common->threads);
    return runners->at(common->task)();
  };
}

Registration reg("eval", "evaluate a model or score predictions (docred, retrieval, caption)", setup);

}  // namespace
}  // namespace cotrain::app
