// ERICA's documents, tokenised once: each training document aligned to sub-words
// (data/alignment.h) with the extras the ERICA batch builder needs: the name of every
// entity (its first mention's surface form, used in ED's "[CLS] relation head [SEP]"
// prefix), which labels ED may sample (those whose relation has a name) and which
// documents can serve ED or RD at all. No tensors here.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cotrain/data/alignment.h"
#include "cotrain/data/docred.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::tasks {

struct EricaDocument {
  int64_t index = 0;  // position in the training data (files concatenated, skipped records not counted)
  std::string title;
  data::AlignedDocument aligned;          // body sub-words truncated to max_length - 2 ([CLS] .. [SEP])
  std::vector<std::string> entity_names;  // per aligned entity: surface form of its first mention
  std::vector<size_t> ed_labels;          // indices into aligned.labels whose relation has a name
};

struct EricaCorpus {
  std::vector<EricaDocument> docs;
  std::vector<int64_t> ed_docs;  // documents with at least one ED-usable label
  std::vector<int64_t> rd_docs;  // documents with at least one labelled pair
  data::RelationNames relation_names;
  int64_t dropped_mentions = 0, dropped_labels = 0, truncated_docs = 0;
  std::string summary() const;  // one line for the run's log
};

// Aligns every document to `max_length` sub-words including [CLS] and [SEP].
EricaCorpus prepare_erica_corpus(const std::vector<data::Document>& docs, const text::Tokenizer& tokenizer,
                                 int64_t max_length, data::RelationNames relation_names);

// Reads DocRED/ERICA JSON files (data/docred.h) and prepares them; bad documents are
// handled per `on_bad_record` and counted in the log.
EricaCorpus read_erica_corpus(const std::vector<std::string>& files, const text::Tokenizer& tokenizer,
                              int64_t max_length, data::RelationNames relation_names,
                              data::OnBadRecord on_bad_record);

// True when entities h and t of an aligned document have surviving mentions in a
// common sentence (ERICA's intra-sentence pairs; cross-sentence otherwise).
bool entities_cooccur(const data::AlignedDocument& doc, int64_t h, int64_t t);

}  // namespace cotrain::tasks
