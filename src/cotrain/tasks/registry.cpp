#include "cotrain/tasks/registry.h"

#include "cotrain/core/error.h"
#include "cotrain/tasks/erica_task.h"
#include "cotrain/tasks/mlm_task.h"
#include "cotrain/tasks/vilbert_task.h"
#include "cotrain/tasks/unimo_task.h"
#include "cotrain/tasks/unimo_seq2seq_task.h"

namespace cotrain::tasks {

const std::vector<TaskEntry>& task_registry() {
  static const std::vector<TaskEntry> entries = {
      {"mlm", "masked language modelling on text, one sequence per line (data.train)", make_mlm_task,
       write_mlm_batch, mlm_batch_loss},
      {"vilbert", "ViLBERT: masked words + masked regions + caption alignment on a 'cotrain prepare' store (data.train)",
       make_vilbert_task, write_vilbert_batch, vilbert_batch_loss},
      {"unimo", "UNIMO: MLM, masked regions and CMCL on image-text shards (data.train) + text / image corpora",
       make_unimo_task, write_unimo_batch, unimo_batch_loss},
      {"unimo-seq2seq", "UNIMO with seq2seq language learning: seq2seq.ratio of micro-batches seq2seq, the rest as 'unimo'",
       make_unimo_seq2seq_task, write_seq2seq_batch, seq2seq_batch_loss},
      {"erica", "ERICA: entity + relation discrimination and MLM on DocRED-format documents (erica.md)",
       make_erica_task, write_erica_batch, erica_batch_loss},
  };
  return entries;
}

const TaskEntry& find_task(const std::vector<TaskEntry>& registry, const std::string& name) {
  std::string known;
  for (const auto& e : registry) {
    if (e.name == name) return e;
    known += (known.empty() ? "" : ", ") + e.name;
  }
  fail("unknown task '{}' (known: {})", name, known);
}

const TaskEntry& find_task(const std::string& name) {
  for (const auto* registry : {&task_registry(), &finetune_registry()})
    for (const auto& e : *registry)
      if (e.name == name) return e;
  std::string known;
  for (const auto* registry : {&task_registry(), &finetune_registry()})
    for (const auto& e : *registry) known += (known.empty() ? "" : ", ") + e.name;
  fail("unknown task '{}' (known: {})", name, known);
}

}  // namespace cotrain::tasks
