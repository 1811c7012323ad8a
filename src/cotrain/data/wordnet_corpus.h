// WordNet glosses as a plain-text corpus (for MLM and tokenizer training): one
// sentence per line, the definition and every quoted example of a synset on lines
// of their own, each introduced by the synset's headword (its first lemma):
//   dog: a member of the genus Canis ...
//   dog: the dog barked all night
#pragma once
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "cotrain/data/wordnet.h"

namespace cotrain::data::wordnet {

// Headword of a synset as running text ("take_a_breath" -> "take a breath").
std::string headword(const Synset& synset);

// The synset's definition and examples, each as "headword: text". Empty parts are
// left out, so a synset with neither gives no sentence.
std::vector<std::string> gloss_sentences(const Synset& synset);

struct CorpusStats {
  int64_t synsets = 0;
  int64_t lines = 0;
  int64_t words = 0;  // whitespace-separated
  int64_t bytes = 0;
};

// Writes gloss_sentences() of every synset, one per line, in database order.
CorpusStats write_gloss_corpus(const Database& db, std::ostream& out);

}  // namespace cotrain::data::wordnet
