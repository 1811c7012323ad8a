// `cotrain vocab`: trains a WordPiece vocabulary (vocab.txt) from text files, for
// users who have no pretrained vocabulary. See text/wordpiece_trainer.h for the
// algorithm.
#include <CLI/CLI.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "command.h"
#include "cotrain/core/error.h"
#include "cotrain/text/wordpiece.h"
#include "cotrain/text/wordpiece_trainer.h"

namespace cotrain::app {
namespace {

struct VocabOptions {
  std::vector<std::string> corpus;
  std::string out;
  int64_t size = 30000;
  int64_t min_frequency = 2;
  bool cased = false;
  bool quiet = false;
  int64_t check_lines = 20000;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Share of [UNK] pieces and pieces per word over the first lines of the corpus.
void report_coverage(const VocabOptions& o, const text::WordPieceTokenizer& tokenizer) {
  int64_t lines = 0, pieces = 0, unknown = 0, words = 0;
  text::BasicTokenizer basic(!o.cased);
  for (const std::string& path : o.corpus) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    while (lines < o.check_lines && std::getline(in, line)) {
      ++lines;
      for (const text::BasicWord& word : basic.split(line)) {
        std::vector<text::Piece> out;
        tokenizer.encode_word(word, out);
        ++words;
        pieces += static_cast<int64_t>(out.size());
        for (const auto& p : out) unknown += p.id == tokenizer.specials().unk;
      }
    }
  }
  if (words == 0) return;
  std::cerr << fmt::format("vocab: on the first {} lines: {:.2f} pieces per word, {:.3f}% [UNK]\n", lines,
                           static_cast<double>(pieces) / words, 100.0 * unknown / std::max<int64_t>(pieces, 1));
}

int run(const VocabOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  text::WordPieceTrainerOptions options;
  options.vocab_size = o.size;
  options.lowercase = !o.cased;
  options.min_frequency = o.min_frequency;
  options.progress = !o.quiet;
  text::WordPieceTrainer trainer(options);
  for (const std::string& path : o.corpus) trainer.add_file(path);
  if (trainer.stats().words == 0) fail("vocab: the corpus has no words ({} file(s) read)", o.corpus.size());
  std::vector<std::string> vocab = trainer.train();
  text::write_vocab_txt(o.out, vocab);
  const auto& s = trainer.stats();
  std::cerr << fmt::format(
      "vocab: wrote {} ({} tokens: 5 specials, {} alphabet pieces, {} merged) from {} lines, {} words "
      "({} distinct) in {:.1f}s\n",
      o.out, vocab.size(), s.alphabet, vocab.size() - 5 - s.alphabet, s.lines, s.words, s.unique_words,
      seconds_since(t0));
  if (!o.quiet && o.check_lines > 0) {
    text::WordPieceTokenizer tokenizer(vocab, !o.cased, o.out);
    report_coverage(o, tokenizer);
  }
  return 0;
}

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<VocabOptions>();
  cmd.add_option("--corpus", o->corpus, "UTF-8 text files to learn from (one or more; read line by line)")
      ->required()
      ->expected(1, -1)
      ->check(CLI::ExistingFile);
  cmd.add_option("--out", o->out, "where to write vocab.txt (one token per line, id = line number)")->required();
  cmd.add_option("--size", o->size, "vocabulary size, including [PAD] [UNK] [CLS] [SEP] [MASK]")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{6}, int64_t{10000000}));
  cmd.add_option("--min-frequency", o->min_frequency,
                 "never merge a pair of pieces seen fewer times than this in the corpus")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_flag("--cased", o->cased,
               "keep case and accents (default: uncased, i.e. lowercase and strip accents, as bert-base-uncased);\n"
               "use the same choice when tokenizing with the vocabulary");
  cmd.add_flag("--quiet", o->quiet, "no progress lines");
  cmd.add_option("--check-lines", o->check_lines,
                 "after training, report [UNK] rate and pieces per word on this many corpus lines (0: skip)")
      ->capture_default_str();
  cmd.footer(
      "Text goes through BERT's basic tokenizer (punctuation split, CJK characters apart, and for\n"
      "uncased lowercase + accent stripping), then pieces grow from characters by repeatedly merging\n"
      "the adjacent pair that most raises the corpus likelihood, count(ab) * log(count(ab) * N /\n"
      "(count(a) * count(b))), until --size is reached (details: src/cotrain/text/wordpiece_trainer.h).\n"
      "Example: cotrain vocab --corpus data/wordnet-glosses.txt --size 8000 --out runs/vocab.txt");
  return [o] { return run(*o); };
}

Registration reg("vocab", "train a WordPiece vocabulary (vocab.txt) from text files", setup);

}  // namespace
}  // namespace cotrain::app
