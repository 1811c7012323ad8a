#include "training_command.h"

#include <CLI/CLI.hpp>
#include <ATen/Context.h>

#include <iostream>
#include <memory>

#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/train/trainer.h"

namespace cotrain::app {
namespace {

struct TrainingOptions {
  ConfigOptions config;
  std::string task;
  std::vector<std::string> data;
  std::string out;
  std::string init;
  std::string vocab;
  bool resume = false;
  int64_t stop_after = 0;
};

std::string task_list(const std::vector<tasks::TaskEntry>& registry) {
  std::string text;
  for (const auto& t : registry) text += "  " + t.name + ": " + t.summary + "\n";
  return text;
}

}  // namespace

Runner setup_training_command(CLI::App& cmd, const TrainingCommand& command) {
  auto o = std::make_shared<TrainingOptions>();
  o->task = command.default_task;
  auto* task_option = cmd.add_option("--task", o->task, "what to train (see the list below)");
  if (command.default_task.empty())
    task_option->required();
  else
    task_option->default_val(command.default_task);
  add_config_options(cmd, o->config);
  cmd.add_option("--data", o->data, "training files (overrides data.train)");
  cmd.add_option("--out", o->out, "run folder for checkpoints, metrics.jsonl and config.yaml");
  cmd.add_option("--init", o->init, "start from this Hugging Face folder or cotrain checkpoint");
  cmd.add_option("--vocab", o->vocab, "vocabulary for a model trained from scratch (overrides data.vocab)");
  cmd.add_flag("--resume", o->resume, "continue the run in --out from its latest checkpoint, exactly");
  cmd.add_option("--stop-after", o->stop_after, "stop with a checkpoint after this many updates (then --resume)");
  cmd.footer("Tasks:\n" + task_list(*command.registry) + "\nExamples:\n" + command.examples +
             "Ctrl-C (or SIGTERM) writes a checkpoint and exits. Config keys: 'cotrain config --keys'.");
  const TrainingCommand spec = command;
  return [o, spec] {
    ConfigOrigins origins;
    Config config = resolve_config(o->config, Config{}, &origins);
    if (!o->data.empty()) config.data.train = o->data;
    if (!o->vocab.empty()) config.data.vocab = o->vocab;
    const tasks::TaskEntry& entry = tasks::find_task(*spec.registry, o->task);
    if (o->config.dump) {
      std::cout << dump_config_yaml(config);
      return 0;
    }
    if (o->out.empty()) fail("{}: --out RUN_FOLDER is required", spec.verb);
    apply_thread_count(config.trainer.threads);
    // LibTorch seeds its default generator at random; the fresh weights and dropout
    // must follow trainer.seed so that a run can be repeated (and --resume, which
    // restores the generator's state, continues the same run).
    at::manual_seed(static_cast<uint64_t>(config.trainer.seed));
    std::unique_ptr<train::TrainTask> task = entry.make(config, tasks::TaskInputs{o->init});
    validate_config(config, origins);
    train::Trainer trainer(config, *task, train::TrainerOptions{o->out, o->resume, o->stop_after});
    train::TrainResult result = trainer.run();
    // A task may finish with work on the trained model (e.g. choose a threshold on
    // dev and write predictions); it reports one JSON object.
    if (entry.finish && !result.interrupted) {
      const nlohmann::json report = entry.finish(config, *task, result.checkpoint, o->out);
      if (!report.is_null()) std::cout << report.dump() << "\n";
    }
    std::cout << result.checkpoint << "\n";
    return 0;
  };
}

}  // namespace cotrain::app
