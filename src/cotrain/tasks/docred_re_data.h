// Document-level relation extraction data (erica.md "Downstream evaluation"): DocRED
// documents aligned to sub-words once, the relation classes (class 0 is NA, class
// k >= 1 is relations[k - 1]), and the micro-batches of entity pairs that the RE head
// scores. Plain data, no tensors: `cotrain batch --task docred` writes a DocredBatch
// as JSON and tests/reference/docred_twin.py reads it.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cotrain/core/rng.h"
#include "cotrain/data/alignment.h"
#include "cotrain/data/docred.h"
#include "cotrain/tasks/erica_batch.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::tasks {

// The relation classes of a head; class 0 is NA.
struct DocredRelations {
  std::vector<std::string> ids;  // class k >= 1 is ids[k - 1]
  // Class of a relation id, or -1 when the head does not know it.
  int64_t class_of(const std::string& id) const;
  int64_t num_classes() const { return static_cast<int64_t>(ids.size()) + 1; }
};
// Every relation id of the documents' labels, sorted.
DocredRelations relations_of_labels(const std::vector<data::Document>& docs);
// The keys of an {id: name} JSON (DocRED's rel_info.json), sorted.
DocredRelations relations_of_names(const data::RelationNames& names);

// DocRED's distance bins (its baseline code): |d| = 0, 1, 2-3, 4-7, 8-15, 16-31,
// 32-63, 64-127, 128-255, >= 256 -> 0..9, embedded at 10 + bin for d >= 0 and at
// 10 - bin for d < 0, so indices lie in 1..19 of a 20-row table. d is the word
// distance (first mention of one entity minus first mention of the other).
constexpr int64_t kDistanceBuckets = 20;
int64_t distance_index(int64_t word_delta);

struct DocredReDocument {
  int64_t index = 0;  // position in the read files (skipped records not counted)
  data::AlignedDocument aligned;  // body truncated to max_length - 2 ([CLS] .. [SEP])
  // Per aligned entity: document word position of its first mention (vertexSet order).
  std::vector<int64_t> first_word;
  // Unique labelled (h, t) pairs of aligned entities (h != t), sorted, with their
  // known classes (>= 1); labels of relations the head does not know are left out.
  std::vector<std::pair<int64_t, int64_t>> positives;
  std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> classes;
};

struct DocredReCorpus {
  std::vector<data::Document> source;  // as read (gold labels for scoring)
  std::vector<DocredReDocument> docs;  // aligned, same order
  DocredRelations relations;
  int64_t dropped_labels = 0, truncated_docs = 0;
  std::string summary() const;
};

DocredReCorpus prepare_docred_corpus(std::vector<data::Document> docs, const text::Tokenizer& tokenizer,
                                     int64_t max_length, DocredRelations relations);
DocredReCorpus read_docred_corpus(const std::vector<std::string>& files, const text::Tokenizer& tokenizer,
                                  int64_t max_length, DocredRelations relations, data::OnBadRecord on_bad_record);

// erica.md's low-resource settings: the first ceil(fraction * n) documents (at
// least one) of an order shuffled by `seed`; fraction in (0, 1].
std::vector<int64_t> docred_train_subset(int64_t n, double fraction, uint64_t seed);

struct DocredPair {
  int64_t row = 0;
  int64_t head = 0, tail = 0;           // batch entity indices
  int64_t dist_ht = 0, dist_th = 0;     // distance_index(head - tail), distance_index(tail - head)
  std::vector<int64_t> classes;         // target classes; {0} for an NA pair
  int64_t doc_entity_h = 0, doc_entity_t = 0;  // original vertexSet indices (for predictions)
};

struct DocredBatch {
  std::vector<std::vector<int64_t>> rows;  // [CLS] document [SEP], unpadded
  std::vector<int64_t> docs;               // corpus document of each row
  std::vector<EricaEntity> entities;       // mention spans as token positions of their row
  std::vector<int64_t> first_word;         // per entity: document word position of its first mention
  std::vector<DocredPair> pairs;
  int64_t num_classes = 1;
  int64_t pad_id = 0;
};

// Training micro-batch: every positive pair of each document plus
// min(round(na_ratio * positives), available) NA pairs drawn from `rng`.
DocredBatch build_docred_train_batch(const DocredReCorpus& corpus, const std::vector<int64_t>& docs,
                                     const text::Tokenizer& tokenizer, double na_ratio, Rng& rng);
// Inference: every ordered pair (h != t) of surviving entities.
DocredBatch build_docred_eval_batch(const DocredReCorpus& corpus, const std::vector<int64_t>& docs,
                                    const text::Tokenizer& tokenizer);

// JSON of a batch (layout in tests/reference/docred_twin.py) and back; the reader
// checks every index and names the field of the first problem.
nlohmann::json docred_batch_to_json(const DocredBatch& batch);
DocredBatch docred_batch_from_json(const nlohmann::json& j);

}  // namespace cotrain::tasks
