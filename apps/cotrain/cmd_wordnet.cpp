// `cotrain wordnet`: turns the WordNet 3.1 database (scripts/fetch-wordnet.sh) into
//   --corpus-out FILE  a plain-text corpus of glosses and examples, one sentence a line
//                      (for MLM and tokenizer training);
//   --erica-out DIR    an ERICA distant-supervision corpus (see wordnet_erica.h).
#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "command.h"
#include "cotrain/core/error.h"
#include "cotrain/data/wordnet.h"
#include "cotrain/data/wordnet_corpus.h"
#include "cotrain/data/wordnet_erica.h"

namespace cotrain::app {
namespace {

struct WordnetOptions {
  std::string dict;
  std::string corpus_out;
  std::string erica_out;
  data::wordnet::EricaOptions erica;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run(const WordnetOptions& o) {
  if (o.corpus_out.empty() && o.erica_out.empty()) fail("wordnet: give --corpus-out and/or --erica-out");
  auto t0 = std::chrono::steady_clock::now();
  const auto db = data::wordnet::Database::load(o.dict);
  std::cerr << fmt::format("wordnet: {} synsets read from {} in {:.1f}s\n", db.synsets().size(), o.dict,
                           seconds_since(t0));
  if (!o.corpus_out.empty()) {
    auto t1 = std::chrono::steady_clock::now();
    std::ofstream out(o.corpus_out, std::ios::binary);
    if (!out) fail("{}: cannot write", o.corpus_out);
    const auto stats = data::wordnet::write_gloss_corpus(db, out);
    out.close();
    if (!out) fail("{}: write failed", o.corpus_out);
    std::cout << fmt::format(
        "{{\"corpus\": \"{}\", \"synsets\": {}, \"lines\": {}, \"words\": {}, \"bytes\": {}, \"seconds\": {:.2f}}}\n",
        o.corpus_out, stats.synsets, stats.lines, stats.words, stats.bytes, seconds_since(t1));
  }
  if (!o.erica_out.empty()) {
    auto t1 = std::chrono::steady_clock::now();
    auto erica = o.erica;
    erica.build.seed = erica.seed;
    std::cout << data::wordnet::write_erica_corpus(db, o.erica_out, erica) << "\n";
    std::cerr << fmt::format("wordnet: ERICA corpus written to {} in {:.1f}s\n", o.erica_out, seconds_since(t1));
  }
  return 0;
}

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<WordnetOptions>();
  cmd.add_option("--dict", o->dict, "WordNet dict folder (data.noun, data.verb, data.adj, data.adv)")->required();
  cmd.add_option("--corpus-out", o->corpus_out, "write the gloss corpus here (one sentence per line)");
  cmd.add_option("--erica-out", o->erica_out,
                 "write an ERICA corpus here: train/dev/test.json, rel_info.json and the builder inputs");
  auto& e = o->erica;
  cmd.add_option("--min-neighbors", e.min_neighbors, "a synset heads a document if it has this many related synsets")
      ->capture_default_str();
  cmd.add_option("--max-neighbors", e.max_neighbors, "related synsets per document")->capture_default_str();
  cmd.add_option("--max-docs", e.max_docs, "stop after this many documents (0 = all)")->capture_default_str();
  cmd.add_option("--dev-fraction", e.dev_fraction, "share of documents in dev.json")->capture_default_str();
  cmd.add_option("--test-fraction", e.test_fraction, "share of documents in test.json")->capture_default_str();
  cmd.add_option("--seed", e.seed, "seed of the split and of the NA sampling")->capture_default_str();
  auto& b = e.build;
  cmd.add_option("--min-words", b.min_words, "builder filter: at least this many words")->capture_default_str();
  cmd.add_option("--max-words", b.max_words, "builder filter: at most this many words")->capture_default_str();
  cmd.add_option("--min-entities", b.min_entities, "builder filter: at least this many entities")->capture_default_str();
  cmd.add_option("--max-entities", b.max_entities, "builder filter: at most this many entities")->capture_default_str();
  cmd.add_option("--min-labels", b.min_labels, "builder filter: at least this many labels")->capture_default_str();
  cmd.add_option("--max-labels", b.max_labels, "builder filter: at most this many labels")->capture_default_str();
  cmd.add_option("--max-na", b.max_na, "NA pairs sampled per document")->capture_default_str();
  cmd.footer(
      "Fetch the database first: scripts/fetch-wordnet.sh data/wordnet, then --dict data/wordnet/dict.\n"
      "Corpus lines look like 'dog: a member of the genus Canis ...': the definition and each quoted\n"
      "example of a synset, each introduced by the synset's first lemma.\n"
      "--erica-out: documents of related synsets' glosses, entities = synsets, relations = WordNet\n"
      "pointers; train/dev/test.json with no dev/test entity pair among train's labels or NA pairs.");
  return [o] { return run(*o); };
}

Registration reg("wordnet", "WordNet 3.1 -> gloss text corpus and/or ERICA distant-supervision corpus", setup);

}  // namespace
}  // namespace cotrain::app
