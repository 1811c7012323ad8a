#include "training_command.h"

#include <CLI/CLI.hpp>
#include <ATen/Context.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/dist/process_group.h"
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
  double dist_timeout = 300;
  double bucket_mb = 25;
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
  cmd.add_option("--dist-timeout", o->dist_timeout,
                 "several processes: seconds to wait for a missing peer (rendezvous, collectives) before failing")
      ->default_val(300);
  cmd.add_option("--bucket-mb", o->bucket_mb, "several processes: gradient all-reduce bucket size in MB")
      ->default_val(25);
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
    // Several processes (cotrain launch, torchrun, srun, mpirun): join the group
    // before the task reads its data; only rank 0 logs.
    const dist::Rendezvous rendezvous = dist::rendezvous_from_environment();
    if (rendezvous.world_size > 1) {
      if (rendezvous.rank != 0) log::set_level(log::Level::error);
      if (!(o->dist_timeout > 0)) fail("--dist-timeout must be positive (got {})", o->dist_timeout);
      dist::world().connect(rendezvous, std::chrono::milliseconds(static_cast<int64_t>(o->dist_timeout * 1000)));
    }
    const bool rank0 = dist::world().rank() == 0;
    // LibTorch seeds its default generator at random; the fresh weights and dropout
    // must follow trainer.seed so that a run can be repeated (and --resume, which
    // restores the generator's state, continues the same run).
    at::manual_seed(static_cast<uint64_t>(config.trainer.seed));
    std::unique_ptr<train::TrainTask> task = entry.make(config, tasks::TaskInputs{o->init});
    validate_config(config, origins);
    train::Trainer trainer(config, *task, train::TrainerOptions{o->out, o->resume, o->stop_after, o->bucket_mb});
    train::TrainResult result = trainer.run();
    // A task may finish with work on the trained model (e.g. choose a threshold on
    // dev and write predictions); it reports one JSON object.
    if (!rank0) return 0;
    if (entry.finish && !result.interrupted) {
      const nlohmann::json report = entry.finish(config, *task, result.checkpoint, o->out);
      if (!report.is_null()) std::cout << report.dump() << "\n";
    }
    std::cout << result.checkpoint << "\n";
    return 0;
  };
}

}  // namespace cotrain::app
