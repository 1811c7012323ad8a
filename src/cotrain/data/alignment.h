// Word-to-sub-word alignment of a document: the document's sentences are tokenised
// as one running text and every mention's word span becomes an exact [begin, end)
// span of sub-word positions. Truncation to `max_length` sub-words drops the
// mentions that do not fit entirely, then the entities left without a mention
// (erica.md); labels and NA pairs are remapped to the surviving entities, and those
// that name a dropped entity are dropped.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "cotrain/data/docred.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::data {

struct AlignedMention {
  int64_t begin = 0;  // sub-word position in AlignedDocument::ids (inclusive)
  int64_t end = 0;    // exclusive
  int64_t sent_id = 0;
};

struct AlignedDocument {
  std::vector<int64_t> ids;              // sub-word ids of all sentences, no special tokens
  std::vector<int64_t> sentence_starts;  // sub-word position of each sentence's first piece (before truncation)
  // Surviving entities, in their original order, each with its surviving mentions.
  std::vector<std::vector<AlignedMention>> entities;
  std::vector<int64_t> entity_map;    // original entity index -> new index, or -1 if dropped
  std::vector<int64_t> kept_entities;  // new index -> original index
  std::vector<Label> labels;           // remapped; labels naming a dropped entity removed
  std::vector<std::pair<int64_t, int64_t>> na_triples;  // remapped likewise
  int64_t dropped_mentions = 0;   // past the limit, or covering words with no sub-word
  int64_t dropped_labels = 0;
  int64_t dropped_na_triples = 0;
  int64_t unknown_subwords = 0;  // tokenized_sents pieces absent from the vocabulary (mapped to unk)
  bool truncated = false;
};

// Whether entities h and t (new indices) have mentions in a common sentence: ERICA's
// intra-sentence pairs (T_s); the others are cross-sentence (T_c).
bool share_a_sentence(const AlignedDocument& doc, int64_t h, int64_t t);

// Aligns a validated document (validate_document() returned ""). With `sents`, the
// words go through tokenizer.encode_words (one call for the whole document, so a BPE
// tokenizer puts a leading space before every word but the first); with only
// `tokenized_sents`, each given sub-word is looked up with token_to_id. A negative
// max_length means no limit.
AlignedDocument align_document(const Document& doc, const text::Tokenizer& tokenizer, int64_t max_length);

}  // namespace cotrain::data
