#include "cotrain/tasks/erica_documents.h"

#include <fmt/format.h>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"

namespace cotrain::tasks {

std::string EricaCorpus::summary() const {
  return fmt::format("{} documents ({} usable for ED, {} for RD), {} truncated, {} mentions and {} labels dropped "
                     "past the length limit, {} relation names",
                     docs.size(), ed_docs.size(), rd_docs.size(), truncated_docs, dropped_mentions, dropped_labels,
                     relation_names.size());
}

EricaCorpus prepare_erica_corpus(const std::vector<data::Document>& docs, const text::Tokenizer& tokenizer,
                                 int64_t max_length, data::RelationNames relation_names) {
  if (max_length < 3) fail("erica: data.max_length must be at least 3, got {}", max_length);
  EricaCorpus corpus;
  corpus.relation_names = std::move(relation_names);
  corpus.docs.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    const data::Document& doc = docs[i];
    EricaDocument d;
    d.index = static_cast<int64_t>(i);
    d.title = doc.title;
    d.aligned = data::align_document(doc, tokenizer, max_length - 2);
    for (int64_t original : d.aligned.kept_entities) {
      const auto& mentions = doc.entities.at(static_cast<size_t>(original)).mentions;
      d.entity_names.push_back(mentions.empty() ? std::string() : mentions.front().name);
    }
    for (size_t l = 0; l < d.aligned.labels.size(); ++l)
      if (corpus.relation_names.count(d.aligned.labels[l].r) && d.aligned.labels[l].h != d.aligned.labels[l].t)
        d.ed_labels.push_back(l);
    corpus.dropped_mentions += d.aligned.dropped_mentions;
    corpus.dropped_labels += d.aligned.dropped_labels;
    corpus.truncated_docs += d.aligned.truncated ? 1 : 0;
    if (!d.ed_labels.empty()) corpus.ed_docs.push_back(d.index);
    if (!d.aligned.labels.empty()) corpus.rd_docs.push_back(d.index);
    corpus.docs.push_back(std::move(d));
  }
  return corpus;
}

EricaCorpus read_erica_corpus(const std::vector<std::string>& files, const text::Tokenizer& tokenizer,
                              int64_t max_length, data::RelationNames relation_names,
                              data::OnBadRecord on_bad_record) {
  std::vector<data::Document> all;
  for (const auto& file : files) {
    data::DocredReadOptions options;
    options.on_bad_record = on_bad_record;
    data::DocredReadReport report;
    auto docs = data::read_docred(file, options, &report);
    log::info("{}: {}", file, report.summary());
    for (const auto& reason : report.first_reasons) log::warn("skipped: {}", reason);
    all.insert(all.end(), std::make_move_iterator(docs.begin()), std::make_move_iterator(docs.end()));
  }
  return prepare_erica_corpus(all, tokenizer, max_length, std::move(relation_names));
}

bool entities_cooccur(const data::AlignedDocument& doc, int64_t h, int64_t t) {
  const auto n = static_cast<int64_t>(doc.entities.size());
  if (h < 0 || h >= n || t < 0 || t >= n) return false;
  for (const auto& a : doc.entities[static_cast<size_t>(h)])
    for (const auto& b : doc.entities[static_cast<size_t>(t)])
      if (a.sent_id == b.sent_id) return true;
  return false;
}

}  // namespace cotrain::tasks
