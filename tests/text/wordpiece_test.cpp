// WordPiece unit tests on a small fixed vocabulary: [UNK] rules, byte offsets into
// the original text (accents, expansions, dropped characters), decode, files.
#include <gtest/gtest.h>

#include "cotrain/core/error.h"
#include "cotrain/text/tokenizer.h"
#include "cotrain/text/wordpiece.h"
#include "support/support.h"

namespace cotrain::text {
namespace {

const std::vector<std::string> kVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",                          // 0-4
    "hello", "world", ",", "!", "un", "##believ", "##able", "##s", "run",  // 5-13
    "##ning", "a", "##a", "cafe", "中", "文", "i", "##x", "x", "Hello",      // 14-23
    "he", "##llo", "##b",                                                    // 24-26
};

WordPieceTokenizer uncased() { return WordPieceTokenizer(kVocab, true); }
WordPieceTokenizer cased() { return WordPieceTokenizer(kVocab, false); }

struct Expected {
  std::string token;
  size_t begin, end;
};

void expect_pieces(const WordPieceTokenizer& tok, const std::string& text, const std::vector<Expected>& expected) {
  std::vector<Piece> pieces = tok.encode_with_offsets(text);
  ASSERT_EQ(pieces.size(), expected.size()) << text;
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_EQ(tok.id_to_token(pieces[i].id), expected[i].token) << text << " piece " << i;
    EXPECT_EQ(pieces[i].begin, expected[i].begin) << text << " piece " << i;
    EXPECT_EQ(pieces[i].end, expected[i].end) << text << " piece " << i;
  }
}

TEST(WordPiece, SplitsPunctuationAndLowercases) {
  expect_pieces(uncased(), "Hello, WORLD!", {{"hello", 0, 5}, {",", 5, 6}, {"world", 7, 12}, {"!", 12, 13}});
  EXPECT_EQ(uncased().encode("Hello, WORLD!"), (std::vector<int64_t>{5, 7, 6, 8}));
  // Cased keeps "Hello"; "WORLD" has no pieces at all and is one [UNK].
  expect_pieces(cased(), "Hello WORLD", {{"Hello", 0, 5}, {"[UNK]", 6, 11}});
}

TEST(WordPiece, SubWordsGetTheirOwnByteRanges) {
  expect_pieces(uncased(), "unbelievable runs running",
                {{"un", 0, 2}, {"##believ", 2, 8}, {"##able", 8, 12}, {"run", 13, 16}, {"##s", 16, 17},
                 {"run", 18, 21}, {"##ning", 21, 25}});
}

TEST(WordPiece, RangesCoverAccentsAndExpansionsOfTheOriginalText) {
  // Precomposed é (2 bytes) and e + U+0301 (1 + 2 bytes) both normalise to "cafe".
  expect_pieces(uncased(), u8"Café", {{"cafe", 0, 5}});
  expect_pieces(uncased(), u8"Cafe\u0301s", {{"cafe", 0, 6}, {"##s", 6, 7}});
  // U+0130 lowercases to "i" + U+0307 (dropped as an accent): "İx" -> "ix".
  expect_pieces(uncased(), u8"İx", {{"i", 0, 2}, {"##x", 2, 3}});
  // A control character inside a word is dropped and the word goes on.
  expect_pieces(uncased(), "he\x01llo he\x01llox", {{"hello", 0, 6}, {"hello", 7, 13}, {"##x", 13, 14}});
  // CJK ideographs are words of their own.
  expect_pieces(uncased(), u8"中文x", {{"中", 0, 3}, {"文", 3, 6}, {"x", 6, 7}});
  // Cased: the accent stays, so "Café" has no pieces.
  expect_pieces(cased(), u8"x Café", {{"x", 0, 1}, {"[UNK]", 2, 7}});
}

TEST(WordPiece, UnknownRules) {
  // One unmatched piece makes the whole word [UNK], not a partial split.
  expect_pieces(uncased(), "unbelievablez runs", {{"[UNK]", 0, 13}, {"run", 14, 17}, {"##s", 17, 18}});
  // 100 characters are tokenized, 101 are [UNK] without trying.
  std::vector<int64_t> hundred = uncased().encode(std::string(100, 'a'));
  ASSERT_EQ(hundred.size(), 100u);
  EXPECT_EQ(hundred[0], 15);
  EXPECT_EQ(hundred[99], 16);
  EXPECT_EQ(uncased().encode(std::string(101, 'a')), (std::vector<int64_t>{1}));
  // The limit counts characters (code points) after normalisation, not bytes:
  // 100 x "á" is 200 bytes (300 with the accent decomposed) but 100 characters.
  std::string accented;
  for (int i = 0; i < 100; ++i) accented += u8"á";
  EXPECT_EQ(uncased().encode(accented).size(), 100u);
  EXPECT_EQ(uncased().encode(accented + "a"), (std::vector<int64_t>{1}));
  // Punctuation is split off before the length check.
  EXPECT_EQ(uncased().encode(std::string(100, 'a') + "!").size(), 101u);
  EXPECT_TRUE(uncased().encode("").empty());
  EXPECT_TRUE(uncased().encode(" \t\n\x01 ").empty());
}

TEST(WordPiece, DecodeGluesContinuations) {
  WordPieceTokenizer tok = uncased();
  EXPECT_EQ(tok.decode(tok.encode("Unbelievable runs, hello!")), "unbelievable runs , hello !");
  EXPECT_EQ(tok.tokenize("runs"), (std::vector<std::string>{"run", "##s"}));
  EXPECT_THROW(tok.decode({999}), Error);
  EXPECT_THROW(tok.id_to_token(-1), Error);
}

TEST(WordPiece, EncodeWordsTokenizesEachWordOnItsOwn) {
  auto ids = uncased().encode_words({"Hello", "runs!", "", "ab"});
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[0], (std::vector<int64_t>{5}));
  EXPECT_EQ(ids[1], (std::vector<int64_t>{13, 12, 8}));
  EXPECT_TRUE(ids[2].empty());
  EXPECT_EQ(ids[3], (std::vector<int64_t>{15, 26}));
}

TEST(WordPiece, SpecialsAndVocabularyChecks) {
  WordPieceTokenizer tok = uncased();
  EXPECT_EQ(tok.specials().pad, 0);
  EXPECT_EQ(tok.specials().unk, 1);
  EXPECT_EQ(tok.specials().cls, 2);
  EXPECT_EQ(tok.specials().sep, 3);
  EXPECT_EQ(tok.specials().mask, 4);
  EXPECT_TRUE(tok.is_special(4));
  EXPECT_FALSE(tok.is_special(5));
  EXPECT_EQ(tok.kind(), "wordpiece");
  EXPECT_EQ(tok.vocab_size(), static_cast<int64_t>(kVocab.size()));
  EXPECT_EQ(tok.token_to_id("nope"), -1);
  try {
    WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]"}, true, "v.txt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("v.txt: the WordPiece vocabulary has no [MASK]"), std::string::npos);
  }
}

TEST(WordPiece, FilesSaveAndLoad) {
  std::string dir = testing::scratch_dir("wordpiece-files");
  std::string crlf;
  for (const auto& t : kVocab) crlf += t + "\r\n";
  testing::write_file(dir + "/crlf.txt", crlf);
  auto from_crlf = WordPieceTokenizer::from_file(dir + "/crlf.txt", true);
  EXPECT_EQ(from_crlf->encode("unbelievable runs"), uncased().encode("unbelievable runs"));

  uncased().save(dir + "/saved");
  auto loaded = load_tokenizer(dir + "/saved", true);
  EXPECT_EQ(loaded->kind(), "wordpiece");
  std::string expected;
  for (const auto& t : kVocab) expected += t + "\n";
  EXPECT_EQ(testing::read_file(dir + "/saved/vocab.txt"), expected);
  for (int64_t id = 0; id < loaded->vocab_size(); ++id) EXPECT_EQ(loaded->id_to_token(id), kVocab[id]);
  auto by_file = load_tokenizer(dir + "/saved/vocab.txt", false);
  EXPECT_EQ(by_file->encode("Hello"), (std::vector<int64_t>{23}));  // cased

  EXPECT_THROW(load_tokenizer(dir + "/missing", true), Error);
  testing::write_file(dir + "/bad/vocab.txt", "[PAD]\n\xFF\n");
  try {
    load_tokenizer(dir + "/bad", true);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocab.txt: line 2: invalid UTF-8"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cotrain::text
