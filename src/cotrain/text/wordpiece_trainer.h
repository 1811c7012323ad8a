// Trains a WordPiece vocabulary (vocab.txt) from a corpus, for users who have no
// pretrained one.
//
// Algorithm (WordPiece in the sense of Schuster & Nakajima: pieces grow by the merge
// that most increases the likelihood of the corpus under a unigram model of pieces):
//   1. Every line goes through BERT's basic tokenizer (same cased/uncased option as
//      the tokenizer that will use the vocabulary); words are counted. Words over 100
//      characters are skipped: WordPiece makes them [UNK] whatever the vocabulary.
//   2. The alphabet: every character seen, as a word-initial piece "c" and, unless it
//      is punctuation or a CJK ideograph (always words of their own), as a
//      continuation "##c". If specials + alphabet exceed the size, the rarest
//      characters are left out (they will be [UNK]; words holding them are not used).
//   3. Each word starts as its characters ("w", "##o", "##r", "##d"). Repeatedly, the
//      adjacent pair (a, b) with the best score
//          count(ab) * log(count(ab) * N / (count(a) * count(b)))
//      (N: the number of pieces in the corpus before any merge; counts weighted by
//      word frequency) is merged into one piece ("w" + "##o" -> "wo", "##o" + "##r"
//      -> "##or") everywhere, among pairs seen at least min_frequency times. Ties go
//      to the more frequent pair, then to the pair of earlier pieces (vocabulary
//      order). This stops at the vocabulary size or when no pair is frequent enough.
//      A merge that makes a piece already present adds no entry.
//   4. vocab.txt: [PAD] [UNK] [CLS] [SEP] [MASK], the alphabet (pieces, then "##"
//      pieces, by code point), then the merged pieces in the order they were made.
// Why not the plain count(ab) / (count(a) * count(b)): it prefers pairs of rare pieces
// and spends the vocabulary on rare whole words (3.7 pieces per word at 8000 tokens on
// WordNet glosses, against 1.3 with the likelihood gain).
// Scores live in a priority queue updated lazily (entries are re-checked when popped;
// pairs whose score may have risen are pushed again), so that training takes seconds
// for megabytes of text. tests/reference/tok_trainer_ref.py is a naive twin.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cotrain/text/basic_tokenizer.h"

namespace cotrain::text {

struct WordPieceTrainerOptions {
  int64_t vocab_size = 30000;  // including the five specials
  bool lowercase = true;       // uncased, as bert-base-uncased
  int64_t min_frequency = 2;   // a pair seen fewer times is never merged
  bool progress = true;        // log progress lines
};

struct WordPieceTrainingStats {
  int64_t lines = 0, words = 0, unique_words = 0;
  int64_t alphabet = 0, merges = 0;
  double seconds_counting = 0, seconds_merging = 0;
};

class WordPieceTrainer {
 public:
  explicit WordPieceTrainer(WordPieceTrainerOptions options);

  // Counts the words of one line; `context` (e.g. "corpus.txt: line 4") names it in errors.
  void add_line(std::string_view line, std::string_view context = {});
  // Counts every line of a UTF-8 text file.
  void add_file(const std::string& path);
  // The vocabulary, specials first. Can be called once.
  std::vector<std::string> train();

  const WordPieceTrainingStats& stats() const { return stats_; }

 private:
  WordPieceTrainerOptions options_;
  BasicTokenizer basic_;
  std::unordered_map<std::u32string, int64_t> word_counts_;
  WordPieceTrainingStats stats_;
};

// Writes one token per line.
void write_vocab_txt(const std::string& path, const std::vector<std::string>& tokens);

}  // namespace cotrain::text
