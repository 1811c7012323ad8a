#include "cotrain/data/wordnet_corpus.h"

namespace cotrain::data::wordnet {
namespace {

int64_t count_words(const std::string& s) {
  int64_t n = 0;
  bool in_word = false;
  for (char c : s) {
    const bool space = c == ' ' || c == '\t';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

// A gloss line must stay one line of the corpus.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

}  // namespace

std::string headword(const Synset& synset) {
  return synset.words.empty() ? std::string() : lemma_text(synset.words.front().word);
}

std::vector<std::string> gloss_sentences(const Synset& synset) {
  const Gloss g = split_gloss(synset.gloss);
  const std::string head = headword(synset);
  std::vector<std::string> out;
  if (!g.definition.empty()) out.push_back(one_line(head + ": " + g.definition));
  for (const std::string& ex : g.examples) out.push_back(one_line(head + ": " + ex));
  return out;
}

CorpusStats write_gloss_corpus(const Database& db, std::ostream& out) {
  CorpusStats stats;
  for (const Synset& s : db.synsets()) {
    ++stats.synsets;
    for (const std::string& line : gloss_sentences(s)) {
      out << line << '\n';
      ++stats.lines;
      stats.words += count_words(line);
      stats.bytes += static_cast<int64_t>(line.size()) + 1;
    }
  }
  return stats;
}

}  // namespace cotrain::data::wordnet
