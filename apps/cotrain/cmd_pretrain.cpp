// `cotrain pretrain`: trains a model with one task's objectives, writing
// checkpoints into a run folder.
#include <CLI/CLI.hpp>
#include <ATen/Context.h>

#include <iostream>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/train/trainer.h"

namespace cotrain::app {
namespace {

struct PretrainOptions {
  ConfigOptions config;
  std::string task = "mlm";
  std::vector<std::string> data;
  std::string out;
  std::string init;
  std::string vocab;
  bool resume = false;
  int64_t stop_after = 0;
};

std::string task_list() {
  std::string text;
  for (const auto& t : tasks::task_registry()) text += "  " + t.name + ": " + t.summary + "\n";
  return text;
}

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<PretrainOptions>();
  cmd.add_option("--task", o->task, "what to train (see the list below)")->default_val("mlm");
  add_config_options(cmd, o->config);
  cmd.add_option("--data", o->data, "training files (overrides data.train)");
  cmd.add_option("--out", o->out, "run folder for checkpoints, metrics.jsonl and config.yaml");
  cmd.add_option("--init", o->init, "start from this Hugging Face folder or cotrain checkpoint");
  cmd.add_option("--vocab", o->vocab, "vocabulary for a model trained from scratch (overrides data.vocab)");
  cmd.add_flag("--resume", o->resume, "continue the run in --out from its latest checkpoint, exactly");
  cmd.add_option("--stop-after", o->stop_after, "stop with a checkpoint after this many updates (then --resume)");
  cmd.footer(
      "Tasks:\n" + task_list() +
      "\nExamples:\n"
      "  cotrain pretrain --task mlm --config configs/mlm-tiny.yaml --data corpus.txt --vocab vocab.txt --out runs/x\n"
      "  cotrain pretrain --task mlm --init bert-folder --data corpus.txt --out runs/y --set optim.lr=5e-5\n"
      "  (same arguments) --resume     continues runs/x exactly where it stopped\n"
      "Ctrl-C (or SIGTERM) writes a checkpoint and exits. Config keys: 'cotrain config --keys'.");
  return [o] {
    ConfigOrigins origins;
    Config config = resolve_config(o->config, Config{}, &origins);
    if (!o->data.empty()) config.data.train = o->data;
    if (!o->vocab.empty()) config.data.vocab = o->vocab;
    const tasks::TaskEntry& entry = tasks::find_task(o->task);
    if (o->config.dump) {
      std::cout << dump_config_yaml(config);
      return 0;
    }
    if (o->out.empty()) fail("pretrain: --out RUN_FOLDER is required");
    apply_thread_count(config.trainer.threads);
    // LibTorch seeds its default generator at random; the fresh weights and dropout
    // must follow trainer.seed so that a run can be repeated (and --resume, which
    // restores the generator's state, continues the same run).
    at::manual_seed(static_cast<uint64_t>(config.trainer.seed));
    std::unique_ptr<train::TrainTask> task = entry.make(config, tasks::TaskInputs{o->init});
    validate_config(config, origins);
    train::Trainer trainer(config, *task, train::TrainerOptions{o->out, o->resume, o->stop_after});
    train::TrainResult result = trainer.run();
    std::cout << result.checkpoint << "\n";
    return 0;
  };
}

Registration reg("pretrain", "train a model with a task's objectives (mlm, ...)", setup);

}  // namespace
}  // namespace cotrain::app
