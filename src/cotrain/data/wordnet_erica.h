// WordNet 3.1 as an ERICA distant-supervision corpus: WordNet is both the text (its
// glosses and examples) and the knowledge base (its synsets and pointers), the way
// ERICA used Wikipedia and Wikidata.
//
//   entities   synsets, id = file letter + offset ("n02086723"), aliases = all lemmas
//              (underscores as spaces), type = lexicographer file ("noun.animal")
//   relations  WordNet pointer symbols, named by pointer_name() ("@" hypernym,
//              "%p" part meronym, ...); the adverb "\" (derived from adjective) gets
//              the id "\r" to keep it apart from the adjective "\" (pertainym)
//   documents  one per "center" synset with at least min_neighbors related synsets:
//              the center's gloss sentences, then those of up to max_neighbors
//              synsets its pointers name (in pointer order), each sentence
//              introduced by its synset's headword ("dog : a member of the genus
//              Canis ..."). Linking is restricted to the document's synsets (center
//              first) and an alias shared by two of them goes to the first; a
//              neighbor whose headword is already an alias of an earlier synset of the
//              document is left out, so that every headword links to its own synset.
//
// Centers are split into train/dev/test by a seeded hash; dev and test are built
// first, then train with the leakage filter fed every entity pair of dev and test,
// so no dev or test (h, t) pair is a label or NA pair of train.
#pragma once
#include <cstdint>
#include <string>

#include "cotrain/data/distant_builder.h"
#include "cotrain/data/wordnet.h"

namespace cotrain::data::wordnet {

struct EricaOptions {
  int64_t min_neighbors = 3;
  int64_t max_neighbors = 10;
  double dev_fraction = 0.05;
  double test_fraction = 0.05;
  int64_t max_docs = 0;  // 0 = one document per eligible center; else the first N centers in file order
  uint64_t seed = 1;
  // Filters for these short documents (ERICA's 128 < words suits Wikipedia paragraphs,
  // not glosses): 32..510 words, 4..20 entities, 4..30 labels, 64 NA pairs.
  DistantOptions build = [] {
    DistantOptions o;
    o.min_words = 32;
    o.ambiguity = Ambiguity::first;
    return o;
  }();
};

// Lexicographer file name of lex_filenum ("noun.animal"), "lex.N" when unknown.
std::string lexname(int lex_filenum);
// Entity id of a synset: file letter + 8-digit offset.
std::string synset_id(const Synset& synset);
// Relation id of a pointer symbol from a synset of part of speech `pos`.
std::string relation_id(const std::string& symbol, char pos);

// Writes into `out_dir`: the builder inputs (aliases.tsv, triples.tsv,
// relations.tsv, documents-{train,dev,test}.jsonl), the built corpus
// ({train,dev,test}.json, rel_info.json) and stats.json; returns stats as JSON text.
std::string write_erica_corpus(const Database& db, const std::string& out_dir, const EricaOptions& options);

}  // namespace cotrain::data::wordnet
