// The fine-tuning tasks `cotrain finetune --task NAME` knows: one entry per task
// (keep each entry's lines together so that tasks can be added independently).
#include "cotrain/tasks/registry.h"
#include "cotrain/tasks/vilbert_ft_grounding.h"
#include "cotrain/tasks/vilbert_ft_retrieval.h"
#include "cotrain/tasks/vilbert_ft_vqa.h"
#include "cotrain/tasks/unimo_seq2seq_task.h"

#include "cotrain/tasks/docred_task.h"
#include "cotrain/tasks/relcls_task.h"
#include "cotrain/tasks/unimo_retrieval_task.h"

namespace cotrain::tasks {

const std::vector<TaskEntry>& finetune_registry() {
  static const std::vector<TaskEntry> entries = {
      // ViLBERT fine-tuning heads (vilbert.md "Downstream heads")
      {"vilbert-retrieval", "ViLBERT image-caption retrieval: 4-way softmax (true, random caption/image, hard negative)",
       make_vilbert_retrieval_task, write_vilbert_retrieval_batch, vilbert_retrieval_batch_loss, {}},
      {"vilbert-vqa", "ViLBERT answer classification: MLP head, BCE over soft answer scores, dev soft accuracy",
       make_vilbert_vqa_task, write_vilbert_vqa_batch, vilbert_vqa_batch_loss, finish_vilbert_vqa},
      {"vilbert-grounding", "ViLBERT region grounding: per-region score, BCE against IoU > 0.5 targets",
       make_vilbert_grounding_task, write_vilbert_grounding_batch, vilbert_grounding_batch_loss,
       finish_vilbert_grounding},
      {"caption", "UNIMO captioning: image as the source, caption as the target; scores seq2seq.dev (BLEU-4, CIDEr-D)",
       make_caption_task, write_caption_batch, seq2seq_batch_loss, finish_caption},
      {"docred", "document-level relation extraction (erica.md): mean-pooled entities, bilinear head, BCE; "
                 "--set docred.dev=dev.json [docred.test=test.json docred.train_fraction=0.01|0.1|1]",
       make_docred_task, write_docred_batch, docred_batch_loss, finish_docred},
      {"relcls", "sentence-level relation classification: mean-pooled head/tail spans, softmax; data: JSONL "
                 "{tokens, h: {pos: [b, e]}, t: {pos: [b, e]}, relation}; --set relcls.dev=F relcls.na_label=no_relation",
       make_relcls_task, {}, {}, finish_relcls},
      {"retrieval", "UNIMO image-text retrieval with the pair score head: per positive unimo_retrieval.negative_images "
                    "random images + negative_texts random captions, softmax or circle loss; evaluates data.valid",
       make_unimo_retrieval_task, write_unimo_retrieval_batch, unimo_retrieval_batch_loss, finish_unimo_retrieval},
  };
  return entries;
}

}  // namespace cotrain::tasks
