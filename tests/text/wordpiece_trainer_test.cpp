// The WordPiece trainer: the score rule picks the first merges, the vocabulary is
// well formed and deterministic, it tokenizes its own corpus with few [UNK] and
// fewer pieces than characters, and `cotrain vocab` works end to end.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <cmath>
#include <random>
#include <set>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/text/wordpiece.h"
#include "cotrain/text/wordpiece_trainer.h"
#include "support/support.h"

namespace cotrain::text {
namespace {

WordPieceTrainerOptions quiet(int64_t size, bool lowercase = true, int64_t min_frequency = 2) {
  WordPieceTrainerOptions o;
  o.vocab_size = size;
  o.lowercase = lowercase;
  o.min_frequency = min_frequency;
  o.progress = false;
  return o;
}

// English-like text from a fixed seed: words built from syllables, with
// punctuation, capitals, a few accents and CJK characters.
std::string synthetic_corpus(size_t lines, unsigned seed, int lexicon_size = 800) {
  const std::vector<std::string> syllables = {"re", "con", "ing", "tion", "al", "er", "pre", "the", "and", "ment",
                                              "ly", "ous", "st", "in", "ex", "pro", "a", "o", "ble", u8"é"};
  std::vector<std::string> lexicon;
  std::mt19937 rng(seed);
  for (int i = 0; i < lexicon_size; ++i) {
    std::string w;
    for (int k = 1 + rng() % 5; k > 0; --k) w += syllables[rng() % syllables.size()];
    lexicon.push_back(w);
  }
  std::string text;
  for (size_t l = 0; l < lines; ++l) {
    int n = 3 + rng() % 12;
    for (int i = 0; i < n; ++i) {
      // Zipf-like: low indices are far more frequent.
      size_t index = static_cast<size_t>(lexicon.size() * std::pow(static_cast<double>(rng()) / rng.max(), 3.0));
      std::string w = lexicon[std::min(index, lexicon.size() - 1)];
      if (rng() % 10 == 0) w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
      text += w;
      if (rng() % 8 == 0) text += ",";
      text += " ";
    }
    if (rng() % 20 == 0) text += u8"中文 ";
    text += ".\n";
  }
  return text;
}

std::vector<std::string> train_on(const std::string& text, const WordPieceTrainerOptions& options) {
  WordPieceTrainer trainer(options);
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    trainer.add_line(std::string_view(text).substr(begin, end - begin));
    begin = end + 1;
  }
  return trainer.train();
}

TEST(WordPieceTrainer, LikelihoodGainNotCountPicksTheMerge) {
  // Pieces: t=90, ##a=##b=##c=30, q=8, ##z=8; N = 196.
  //   (t,##a): 30 * log(30*196 / (90*30)) = 23.3      (q,##z): 8 * log(8*196 / (8*8)) = 25.6
  // so the rarer "qz" comes first. (t,##a), (t,##b), (t,##c) then tie (score and count)
  // and go in piece order; each merge lowers count(t) and raises the next one's score.
  std::string text;
  for (int i = 0; i < 30; ++i) text += "ta tb tc ";
  for (int i = 0; i < 8; ++i) text += "qz ";
  const std::vector<std::string> expected = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a",  "b",  "c",
                                             "q",     "t",     "z",     "##a",   "##b",    "##c", "##q", "##t",
                                             "##z",   "qz",    "ta",    "tb",    "tc"};
  EXPECT_EQ(train_on(text, quiet(21)), expected);
  EXPECT_EQ(train_on(text, quiet(18)), std::vector<std::string>(expected.begin(), expected.begin() + 18));
  // Asking for more than the corpus can make stops when no pair is left.
  EXPECT_EQ(train_on(text, quiet(100)), expected);
}

class WordPieceTrainerVsTwin : public ::testing::TestWithParam<bool> {};

TEST_P(WordPieceTrainerVsTwin, SameVocabularyAsTheNaiveTwin) {
  // The naive twin recomputes every score at every merge: the lazy queue must agree.
  const bool cased = GetParam();
  std::string dir = testing::scratch_dir(cased ? "trainer-twin-cased" : "trainer-twin-uncased");
  std::string corpus = synthetic_corpus(400, cased ? 8 : 9);
  corpus += u8"Ça va? ΟΔΟΣ οδός, naïve İstanbul 😀 日本語 — “quotes” and ..., again: ça VA.\n";
  corpus += std::string(101, 'q') + " " + std::string(101, 'q') + " " + std::string(100, 'k') + " " +
            std::string(100, 'k') + "\n";  // only the 100-character word counts
  testing::write_file(dir + "/corpus.txt", corpus);
  const int64_t size = 260;
  std::vector<std::string> args = {dir + "/corpus.txt", "--size", std::to_string(size), "--min-frequency", "2"};
  if (cased) args.push_back("--cased");
  auto twin = nlohmann::json::parse(testing::run_reference("tok_trainer_ref.py", args)).get<std::vector<std::string>>();
  WordPieceTrainer trainer(quiet(size, !cased));
  trainer.add_file(dir + "/corpus.txt");
  std::vector<std::string> ours = trainer.train();
  ASSERT_EQ(ours.size(), twin.size());
  for (size_t i = 0; i < ours.size(); ++i) ASSERT_EQ(ours[i], twin[i]) << "entry " << i;
  EXPECT_EQ(static_cast<int64_t>(ours.size()), size);
}

INSTANTIATE_TEST_SUITE_P(CasedAndUncased, WordPieceTrainerVsTwin, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "cased" : "uncased"; });

TEST(WordPieceTrainer, VocabularyIsWellFormedAndCoversItsCorpus) {
  const std::string text = synthetic_corpus(3000, 1);
  const int64_t size = 600;
  std::vector<std::string> vocab = train_on(text, quiet(size));
  ASSERT_EQ(static_cast<int64_t>(vocab.size()), size);
  EXPECT_EQ((std::vector<std::string>(vocab.begin(), vocab.begin() + 5)),
            (std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}));
  std::set<std::string> distinct(vocab.begin(), vocab.end());
  EXPECT_EQ(distinct.size(), vocab.size());
  for (const std::string& t : vocab) {
    EXPECT_FALSE(t.empty());
    EXPECT_EQ(t.find_first_of(" \n\t"), std::string::npos) << t;
    if (t[0] != '[') EXPECT_EQ(t.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), std::string::npos) << t;
  }
  WordPieceTokenizer tokenizer(vocab, true);
  int64_t pieces = 0, unknown = 0, chars = 0;
  BasicTokenizer basic(true);
  for (const BasicWord& w : basic.split(text)) chars += static_cast<int64_t>(w.chars.size());
  for (int64_t id : tokenizer.encode(text)) {
    ++pieces;
    unknown += id == tokenizer.specials().unk;
  }
  EXPECT_EQ(unknown, 0);
  EXPECT_LT(pieces * 2, chars) << "merged pieces should more than halve the number of symbols";
  // Same input, same vocabulary.
  EXPECT_EQ(train_on(text, quiet(size)), vocab);
}

TEST(WordPieceTrainer, CasedKeepsCapitalsAndMinFrequencyStopsEarly) {
  const std::string text = synthetic_corpus(500, 2);
  std::vector<std::string> cased = train_on(text, quiet(400, false));
  bool has_capital = false;
  for (const auto& t : cased) has_capital |= t[0] != '[' && t.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos;
  EXPECT_TRUE(has_capital);
  std::vector<std::string> strict = train_on(text, quiet(100000, true, 1000000));
  std::vector<std::string> loose = train_on(text, quiet(100000, true, 2));
  EXPECT_LT(strict.size(), 100u);  // only specials and the alphabet: no pair is that frequent
  EXPECT_GT(loose.size(), strict.size() + 100);
  EXPECT_LT(loose.size(), 100000u);
}

TEST(WordPieceTrainer, SmallSizeKeepsTheFrequentCharacters) {
  std::string text = "aaaa bbbb aaaa cccc aaaa b z";
  std::vector<std::string> vocab = train_on(text, quiet(5 + 4));
  EXPECT_EQ(vocab, (std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "##a", "##b"}));
}

TEST(WordPieceTrainer, IsFastOnMegabytes) {
  const std::string text = synthetic_corpus(40000, 3, 40000);  // about 3 MB, many distinct words
  ASSERT_GT(text.size(), 2000000u);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> vocab = train_on(text, quiet(8000));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(vocab.size(), 8000u);
  EXPECT_LT(seconds, 30.0);
  std::printf("trained %zu tokens on %.1f MB in %.2f s\n", vocab.size(), text.size() / 1e6, seconds);
}

TEST(WordPieceTrainer, ErrorsNameTheFileAndLine) {
  std::string dir = testing::scratch_dir("trainer-errors");
  testing::write_file(dir + "/bad.txt", "good line\nbad \xC3\x28 line\n");
  WordPieceTrainer trainer(quiet(100));
  try {
    trainer.add_file(dir + "/bad.txt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt: line 2: invalid UTF-8 at byte 4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(trainer.add_file(dir + "/missing.txt"), Error);
  EXPECT_THROW(WordPieceTrainer(quiet(5)), Error);
}

TEST(VocabCommand, TrainsAVocabularyFromFiles) {
  std::string dir = testing::scratch_dir("vocab-command");
  testing::write_file(dir + "/a.txt", synthetic_corpus(800, 4));
  testing::write_file(dir + "/b.txt", synthetic_corpus(200, 5));
  auto help = testing::run_cotrain({"vocab", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--min-frequency"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("--cased"), std::string::npos);

  auto r = testing::run_cotrain({"vocab", "--corpus", dir + "/a.txt", dir + "/b.txt", "--size", "300", "--out",
                                 dir + "/out/vocab.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("300 tokens"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("% [UNK]"), std::string::npos) << r.output;
  auto tokenizer = load_tokenizer(dir + "/out", true);
  EXPECT_EQ(tokenizer->vocab_size(), 300);

  testing::write_file(dir + "/bad.txt", "ok\n\xFF\n");
  auto bad = testing::run_cotrain({"vocab", "--corpus", dir + "/bad.txt", "--out", dir + "/x.txt"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("bad.txt: line 2: invalid UTF-8 at byte 0"), std::string::npos) << bad.output;
  auto missing = testing::run_cotrain({"vocab", "--corpus", dir + "/nope.txt", "--out", dir + "/x.txt"});
  EXPECT_NE(missing.exit_code, 0);
}

}  // namespace
}  // namespace cotrain::text
