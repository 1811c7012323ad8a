// The fine-tuning tasks `cotrain finetune --task NAME` knows: one entry per task
// (keep each entry's lines together so that tasks can be added independently).
#include "cotrain/tasks/registry.h"

namespace cotrain::tasks {

const std::vector<TaskEntry>& finetune_registry() {
  static const std::vector<TaskEntry> entries = {
  };
  return entries;
}

}  // namespace cotrain::tasks
