// The distant-supervision builder behind `cotrain distant`: links entity mentions in
// documents to a knowledge base, labels linked entity pairs with the KB's relations,
// samples NA pairs, applies ERICA's filters and a leakage filter, and produces
// DocRED-format documents (erica.md, "Pretraining data").
//
// Linking: within each sentence, left to right, the longest word sequence that is an
// alias of some entity becomes a mention and its words are consumed, so mentions
// never overlap. A document may restrict linking to a list of candidate entities
// (like the hyperlinks ERICA linked from Wikipedia). An alias of several candidate
// entities is ambiguous: skipped (default; its words are still consumed) or given to
// the first candidate (document order when restricted, else alias-file order).
//
// Labels: every ordered pair (h, t) of linked entities gets one label per KB relation
// from h to t. Pairs without a relation are NA candidates; up to max_na of them are
// sampled (seeded, per document) into na_triple.
//
// Leakage: pairs of entities that occur together in the given evaluation documents
// (all pairs of their vertexSets, in both directions) are removed from labels and
// NA candidates before the filters are applied.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "cotrain/data/distant_kb.h"
#include "cotrain/data/docred.h"

namespace cotrain::data {

struct SourceDocument {
  std::string title;
  std::vector<std::vector<std::string>> sents;
  std::vector<std::string> candidates;  // entity ids linking is restricted to; empty = any
};

// JSONL, one object per line: {"text": "raw text"} (split by distant_text.h's rule)
// or {"sents": [["word", ...], ...]}; optional "title" and "entities" (candidate ids).
std::vector<SourceDocument> read_source_documents(const std::string& path, BadRecordLog& log);

enum class Ambiguity { skip, first };

struct DistantOptions {
  // Filters, all bounds inclusive. ERICA: 128 < words <= 510, 4..20 entities, 4..30 labels.
  int64_t min_words = 129, max_words = 510;
  int64_t min_entities = 4, max_entities = 20;
  int64_t min_labels = 4, max_labels = 30;
  int64_t max_na = 64;  // NA pairs kept per document (RD samples up to 32 of them per epoch)
  uint64_t seed = 1;
  Ambiguity ambiguity = Ambiguity::skip;
};

// Unordered pairs of KB entities.
class PairSet {
 public:
  void add(int32_t a, int32_t b) { pairs_.insert(key(a, b)); }
  bool contains(int32_t a, int32_t b) const { return pairs_.count(key(a, b)) > 0; }
  size_t size() const { return pairs_.size(); }

 private:
  static uint64_t key(int32_t a, int32_t b) {
    if (a > b) std::swap(a, b);
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  std::unordered_set<uint64_t> pairs_;
};

// Adds every pair of entities co-occurring in `docs`. An entity is identified by its
// mentions' "id" fields when they name KB entities, else by resolving its mention
// names through the alias table (every entity an alias names, to be safe). Returns
// the number of entities that could not be resolved at all.
int64_t collect_entity_pairs(const std::vector<Document>& docs, const KnowledgeBase& kb, PairSet& out);

struct DistantStats {
  int64_t documents = 0, mentions = 0, ambiguous = 0;
  int64_t leaked_labels = 0, leaked_na_pairs = 0;
  int64_t filtered_words = 0, filtered_entities = 0, filtered_labels = 0;
  int64_t kept = 0, kept_entities = 0, kept_mentions = 0, kept_labels = 0, kept_na = 0, kept_words = 0;
  std::string to_json() const;  // one JSON object, for the command's output
};

// Builds the documents that pass the filters; `leakage` may be null.
std::vector<Document> build_distant(const std::vector<SourceDocument>& docs, const KnowledgeBase& kb,
                                    const DistantOptions& options, const PairSet* leakage, DistantStats& stats);

}  // namespace cotrain::data
