// Helpers for the end-to-end tests of the `cotrain` program: a tiny generated corpus
// with a matching WordPiece vocabulary, the arguments of a tiny pretraining run, and
// checks on how the program reports bad input.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "support/support.h"

namespace cotrain::cli_test {

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// Words of the tiny corpus; the vocabulary below splits some of them into pieces and
// lacks a few ("zebra", "quixotic") so that [UNK] occurs in training too.
inline const std::vector<std::string>& corpus_words() {
  static const std::vector<std::string> words = {
      "the", "a", "cat", "dog", "sat", "on", "mat", "ran", "to", "park", "runs", "jumped", "quickly",
      "slowly", "big", "small", "red", "blue", "house", "tree", "bird", "sings", "walking", "zebra",
      "quixotic", "and", "with", "under", "over", "green"};
  return words;
}

// `lines` sentences of 3-12 words drawn with a fixed LCG, each ending in a period.
inline std::string tiny_corpus_text(int lines, uint64_t seed = 7) {
  uint64_t state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  auto next = [&](uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<size_t>((state >> 33) % n);
  };
  const auto& words = corpus_words();
  std::string text;
  for (int i = 0; i < lines; ++i) {
    const size_t n = 3 + next(10);
    for (size_t w = 0; w < n; ++w) text += (w ? " " : "") + words[next(words.size())];
    text += ".\n";
  }
  return text;
}

inline std::string tiny_vocab_text() {
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","};
  for (const char* w : {"the", "a", "cat", "dog", "sat", "on", "mat", "ran", "to", "park", "run", "jump", "quick",
                        "slow", "big", "small", "red", "blue", "house", "tree", "bird", "sing", "walk", "and",
                        "with", "under", "over", "green", "##s", "##ed", "##ly", "##ing"})
    tokens.push_back(w);
  std::string text;
  for (const auto& t : tokens) text += t + "\n";
  return text;
}

struct TinyData {
  std::string corpus, vocab;
};
inline TinyData write_tiny_data(const std::string& dir, int lines = 120) {
  TinyData d{dir + "/corpus.txt", dir + "/vocab.txt"};
  testing::write_file(d.corpus, tiny_corpus_text(lines));
  testing::write_file(d.vocab, tiny_vocab_text());
  return d;
}

// `cotrain pretrain` arguments for a tiny BERT trained from scratch: dropout on (the
// defaults of 0.1), a warm-up, accumulation, one thread so that runs are bit-exact.
inline std::vector<std::string> tiny_pretrain_args(const TinyData& data, const std::string& out, int64_t max_updates,
                                                   std::vector<std::string> extra_sets = {}) {
  std::vector<std::string> args = {"pretrain", "--task", "mlm", "--data", data.corpus, "--vocab", data.vocab,
                                   "--out", out};
  std::vector<std::string> sets = {"model.hidden_size=32",
                                   "model.num_hidden_layers=2",
                                   "model.num_attention_heads=2",
                                   "model.intermediate_size=64",
                                   "model.max_position_embeddings=32",
                                   "data.max_length=24",
                                   "trainer.batch_size=4",
                                   "trainer.accumulate=2",
                                   "trainer.threads=1",
                                   "trainer.display_every=1",
                                   "trainer.save_every=0",
                                   "trainer.max_updates=" + std::to_string(max_updates),
                                   "schedule.warmup_updates=3",
                                   "optim.lr=1e-3"};
  sets.insert(sets.end(), extra_sets.begin(), extra_sets.end());
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  return args;
}

// Bad input must end the program with exit code 2 and exactly one line
// "cotrain: error: ..." that contains every one of `mentions` (the file, the key, the
// line number...), and nothing that looks like a crash.
inline void expect_clean_error(const testing::CommandResult& r, const std::vector<std::string>& mentions,
                               const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  std::vector<std::string> errors;
  for (const auto& line : split_lines(r.output)) {
    if (line.rfind("cotrain: error: ", 0) == 0) errors.push_back(line);
    EXPECT_EQ(line.find("internal error"), std::string::npos) << r.output;
    EXPECT_EQ(line.find("terminate called"), std::string::npos) << r.output;
    EXPECT_EQ(line.find("Exception raised from"), std::string::npos) << r.output;  // a c10::Error's backtrace
  }
  ASSERT_EQ(errors.size(), 1u) << "expected one error line, got:\n" << r.output;
  for (const auto& m : mentions) EXPECT_NE(errors[0].find(m), std::string::npos) << "'" << m << "' not in: " << errors[0];
}

}  // namespace cotrain::cli_test
