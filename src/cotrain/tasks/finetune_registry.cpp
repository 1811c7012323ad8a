// The fine-tuning tasks `cotrain finetune --task NAME` knows: one entry per task
// (keep each entry's lines together so that tasks can be added independently).
#include "cotrain/tasks/registry.h"
#include "cotrain/tasks/unimo_seq2seq_task.h"

#include "cotrain/tasks/docred_task.h"
#include "cotrain/tasks/relcls_task.h"

namespace cotrain::tasks {

const std::vector<TaskEntry>& finetune_registry() {
  static const std::vector<TaskEntry> entries = {
      {"caption", "UNIMO captioning: image as the source, caption as the target; scores seq2seq.dev (BLEU-4, CIDEr-D)",
       make_caption_task, write_caption_batch, seq2seq_batch_loss, finish_caption},
      {"docred", "document-level relation extraction (erica.md): mean-pooled entities, bilinear head, BCE; "
                 "--set docred.dev=dev.json [docred.test=test.json docred.train_fraction=0.01|0.1|1]",
       make_docred_task, write_docred_batch, docred_batch_loss, finish_docred},
      {"relcls", "sentence-level relation classification: mean-pooled head/tail spans, softmax; data: JSONL "
                 "{tokens, h: {pos: [b, e]}, t: {pos: [b, e]}, relation}; --set relcls.dev=F relcls.na_label=no_relation",
       make_relcls_task, {}, {}, finish_relcls},
  };
  return entries;
}

}  // namespace cotrain::tasks
