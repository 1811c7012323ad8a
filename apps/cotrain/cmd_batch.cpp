// `cotrain batch` and `cotrain loss`: see exactly what a model is fed, and what it
// computes on it. Tests compare the PyTorch twins with these.
#include <CLI/CLI.hpp>

#include <iomanip>
#include <iostream>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/train/checkpoint.h"

namespace cotrain::app {
namespace {

struct BatchOptions {
  ConfigOptions config;
  std::string task = "mlm", model, out = "-", batch;
  std::vector<std::string> data;
  int64_t seed = -1;
};

std::string tasks_with(bool loss) {
  std::string names;
  for (const auto& t : tasks::task_registry())
    if (loss ? static_cast<bool>(t.loss) : static_cast<bool>(t.batch)) names += (names.empty() ? "" : ", ") + t.name;
  return names;
}

Runner setup_batch(CLI::App& cmd) {
  auto o = std::make_shared<BatchOptions>();
  cmd.add_option("--task", o->task, "task whose first micro-batch to write: " + tasks_with(false))->required();
  add_config_options(cmd, o->config);
  cmd.add_option("--data", o->data, "data files (overrides data.train)");
  cmd.add_option("--model", o->model, "model folder (Hugging Face folder, checkpoint or run folder)");
  cmd.add_option("--seed", o->seed, "seed (overrides trainer.seed)");
  cmd.add_option("--out", o->out, "where to write the batch JSON ('-': stdout)")->default_val("-");
  cmd.footer("The batch is exactly the first micro-batch that 'cotrain pretrain' would train on with the\n"
             "same config, data and seed. 'cotrain loss' evaluates a model on it.");
  return [o] {
    Config config = resolve_config(o->config);
    if (!o->data.empty()) config.data.train = o->data;
    if (o->seed >= 0) config.trainer.seed = o->seed;
    const auto& entry = tasks::find_task(o->task);
    if (!entry.batch) fail("task {} cannot write batches (tasks that can: {})", o->task, tasks_with(false));
    tasks::TaskInputs inputs{o->model.empty() ? "" : train::resolve_model_dir(o->model)};
    const std::string text = entry.batch(config, inputs).dump() + "\n";
    if (o->out == "-")
      std::cout << text;
    else
      write_file_atomically(o->out, text);
    return 0;
  };
}

Runner setup_loss(CLI::App& cmd) {
  auto o = std::make_shared<BatchOptions>();
  cmd.add_option("--task", o->task, "task whose objectives to evaluate: " + tasks_with(true))->required();
  add_config_options(cmd, o->config);
  cmd.add_option("--model", o->model, "model folder (Hugging Face folder, checkpoint or run folder)")->required();
  cmd.add_option("--batch", o->batch, "batch JSON written by 'cotrain batch'")->required()->check(CLI::ExistingFile);
  cmd.footer("Prints the losses as one JSON object, e.g. {\"mlm\": 6.1, \"total\": 6.1}; dropout is off.");
  return [o] {
    Config config = resolve_config(o->config);
    const auto& entry = tasks::find_task(o->task);
    if (!entry.loss) fail("task {} cannot evaluate batches (tasks that can: {})", o->task, tasks_with(true));
    nlohmann::json batch;
    try {
      batch = nlohmann::json::parse(read_whole_file(o->batch));
    } catch (const nlohmann::json::exception& e) {
      fail("{}: not valid JSON: {}", o->batch, e.what());
    }
    tasks::TaskInputs inputs{train::resolve_model_dir(o->model)};
    std::cout << std::setprecision(9) << entry.loss(config, inputs, batch).dump() << "\n";
    return 0;
  };
}

Registration batch_reg("batch", "write the exact inputs of the first training batch as JSON", setup_batch);
Registration loss_reg("loss", "evaluate a model's losses on a batch JSON (dropout off)", setup_loss);

}  // namespace
}  // namespace cotrain::app
