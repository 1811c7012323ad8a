// `cotrain pretrain`: trains a model with one task's objectives, writing
// checkpoints into a run folder.
#include <CLI/CLI.hpp>

#include "training_command.h"

namespace cotrain::app {
namespace {

Runner setup(CLI::App& cmd) {
  return setup_training_command(
      cmd, TrainingCommand{
               "pretrain", "mlm", &tasks::task_registry(),
               "  cotrain pretrain --task mlm --config configs/mlm-tiny.yaml --data corpus.txt --vocab vocab.txt "
               "--out runs/x\n"
               "  cotrain pretrain --task mlm --init bert-folder --data corpus.txt --out runs/y --set optim.lr=5e-5\n"
               "  (same arguments) --resume     continues runs/x exactly where it stopped\n"});
}

Registration reg("pretrain", "train a model with a task's objectives (mlm, erica, unimo, vilbert)", setup);

}  // namespace
}  // namespace cotrain::app
