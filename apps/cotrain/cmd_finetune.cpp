// `cotrain finetune`: trains a pretrained model on a downstream task (same trainer,
// run folder, checkpoints and --resume as `cotrain pretrain`); a task may finish by
// evaluating the trained model and writing predictions.
#include <CLI/CLI.hpp>

#include "training_command.h"

namespace cotrain::app {
namespace {

Runner setup(CLI::App& cmd) {
  return setup_training_command(
      cmd, TrainingCommand{"finetune", "", &tasks::finetune_registry(),
                           "  cotrain finetune --task TASK --init runs/pretrained/latest --data train.json "
                           "--out runs/ft\n"
                           "  (same arguments) --resume     continues runs/ft exactly where it stopped\n"});
}

Registration reg("finetune", "fine-tune a pretrained model on a downstream task", setup);

}  // namespace
}  // namespace cotrain::app
