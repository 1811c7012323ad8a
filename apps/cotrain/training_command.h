// What `cotrain pretrain` and `cotrain finetune` share: the same trainer, run folder,
// --resume and --stop-after; they differ only in which tasks they offer.
#pragma once
#include <string>
#include <vector>

#include "command.h"
#include "cotrain/tasks/registry.h"

namespace cotrain::app {

struct TrainingCommand {
  std::string verb;          // "pretrain" or "finetune" (error messages, examples)
  std::string default_task;  // empty: --task is required
  const std::vector<tasks::TaskEntry>* registry;
  std::string examples;      // footer text after the task list
};

Runner setup_training_command(CLI::App& cmd, const TrainingCommand& command);

}  // namespace cotrain::app
