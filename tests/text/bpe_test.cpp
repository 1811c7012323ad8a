// Byte-level BPE unit tests: the byte map, the GPT-2 pre-tokenizer's whitespace and
// contraction rules, merges by rank, offsets, decode round trip, file checks.
#include <gtest/gtest.h>

#include <random>

#include "cotrain/core/error.h"
#include "cotrain/text/bpe.h"
#include "cotrain/text/gpt2_pretokenizer.h"
#include "cotrain/text/tokenizer.h"
#include "cotrain/text/utf8.h"
#include "support/support.h"
#include "text_test_util.h"

namespace cotrain::text {
namespace {

std::vector<std::string> pretokens(const std::string& text) {
  std::u32string cps = decode_utf8(text);
  std::vector<std::string> out;
  for (const auto& [b, e] : gpt2_pretokenize(cps)) out.push_back(encode_utf8(cps.substr(b, e - b)));
  return out;
}

// A vocabulary with every byte symbol, the specials, and a few merges.
BpeTokenizer small_bpe() {
  std::unordered_map<std::string, int64_t> vocab = {{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}};
  for (char32_t c : bytes_to_unicode()) {
    std::string s;
    append_utf8(c, s);
    vocab.emplace(s, static_cast<int64_t>(vocab.size()));
  }
  std::vector<std::pair<std::string, std::string>> merges = {
      {"l", "o"}, {"lo", "w"}, {"e", "r"}, {"\xC4\xA0", "low"}, {"low", "er"}, {"a", "a"}};
  for (const auto& [a, b] : merges) vocab.emplace(a + b, static_cast<int64_t>(vocab.size()));
  vocab.emplace("<mask>", static_cast<int64_t>(vocab.size()));
  return BpeTokenizer(vocab, merges);
}

TEST(Bpe, ByteMapIsGpt2s) {
  const auto& map = bytes_to_unicode();
  EXPECT_EQ(map['A'], U'A');
  EXPECT_EQ(map[' '], 0x120u);   // "Ġ"
  EXPECT_EQ(map['\n'], 0x10Au);  // "Ċ"
  EXPECT_EQ(map[0], 0x100u);
  EXPECT_EQ(map[0xAD], 0x143u);  // the soft hyphen is not printable
  EXPECT_EQ(map[0xE9], 0xE9u);
  std::set<char32_t> distinct(map.begin(), map.end());
  EXPECT_EQ(distinct.size(), 256u);
}

TEST(Bpe, PreTokenizerFollowsTheGpt2Pattern) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pretokens("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pretokens("it's we're I'LL they'd"), (V{"it", "'s", " we", "'re", " I", "'", "LL", " they", "'d"}));
  EXPECT_EQ(pretokens("a  b"), (V{"a", " ", " b"}));
  EXPECT_EQ(pretokens("a   \n b"), (V{"a", "   \n", " b"}));
  EXPECT_EQ(pretokens("a\t\tb"), (V{"a", "\t", "\t", "b"}));
  EXPECT_EQ(pretokens("end  "), (V{"end", "  "}));
  EXPECT_EQ(pretokens("x 123 4.5?! ...y"), (V{"x", " 123", " 4", ".", "5", "?!", " ...", "y"}));
  EXPECT_EQ(pretokens(u8"naïve 中文 ٣٤"), (V{u8"naïve", u8" 中文", u8" ٣٤"}));
  EXPECT_EQ(pretokens(u8"a\u00a0b"), (V{"a", u8"\u00a0", "b"}));  // NBSP is \s but not the optional ' '
  EXPECT_EQ(pretokens(u8" 😀😀!"), (V{u8" 😀😀!"}));
  EXPECT_TRUE(pretokens("").empty());
}

TEST(Bpe, MergesByRankWithOffsets) {
  BpeTokenizer bpe = small_bpe();
  EXPECT_EQ(bpe.tokenize("lower lower"), (std::vector<std::string>{"lower", "\xC4\xA0low", "er"}));
  EXPECT_EQ(bpe.tokenize("aaa"), (std::vector<std::string>{"aa", "a"}));  // left to right
  std::vector<Piece> pieces = bpe.encode_with_offsets(u8"lowé lower");
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const Piece& p : pieces) ranges.emplace_back(p.begin, p.end);
  EXPECT_EQ(ranges, (std::vector<std::pair<size_t, size_t>>{{0, 3}, {3, 4}, {4, 5}, {5, 9}, {9, 11}}));
  EXPECT_EQ(bpe.specials().cls, 0);
  EXPECT_EQ(bpe.specials().sep, 2);
  EXPECT_EQ(bpe.specials().mask, bpe.vocab_size() - 1);
  EXPECT_EQ(bpe.kind(), "bpe");
}

TEST(Bpe, LongPreTokensMergeFastAndLikeShortOnes) {
  BpeTokenizer bpe = small_bpe();
  // 200,000 letters without a space: one pre-token. The quadratic textbook loop would
  // take minutes; the result must equal the short word's pattern repeated.
  std::string text;
  for (int i = 0; i < 40000; ++i) text += "lower";
  std::vector<int64_t> ids = bpe.encode(text);
  ASSERT_EQ(ids.size(), 40000u);
  for (int64_t id : ids) ASSERT_EQ(id, bpe.token_to_id("lower"));
  EXPECT_EQ(bpe.encode(std::string(7, 'a')), (std::vector<int64_t>{bpe.token_to_id("aa"), bpe.token_to_id("aa"),
                                                                   bpe.token_to_id("aa"), bpe.token_to_id("a")}));
}

TEST(Bpe, UnknownSymbolsBecomeUnk) {
  // A vocabulary without the byte symbol for 'z'.
  std::unordered_map<std::string, int64_t> vocab = {{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3},
                                                    {"<mask>", 4}, {"a", 5}};
  BpeTokenizer bpe(vocab, {});
  EXPECT_EQ(bpe.encode("aza"), (std::vector<int64_t>{5, 3, 5}));
}

TEST(Bpe, DecodeRoundTripsAnyText) {
  BpeTokenizer bpe = small_bpe();
  std::mt19937 rng(3);
  const std::vector<std::string> pool = {"a", "lower", " ", "  ", "\t", "\n", u8"é", u8"中", u8"😀", "'s", "!", "9", "\r",
                                         std::string(1, '\0')};
  for (int i = 0; i < 300; ++i) {
    std::string text;
    for (int k = rng() % 20; k > 0; --k) text += pool[rng() % pool.size()];
    std::vector<Piece> pieces = bpe.encode_with_offsets(text);
    EXPECT_EQ(bpe.decode(bpe.encode(text)), text) << test::escaped(text);
    size_t at = 0;  // pieces tile the input bytes exactly
    for (const Piece& p : pieces) {
      EXPECT_EQ(p.begin, at);
      EXPECT_GT(p.end, p.begin);
      at = p.end;
    }
    EXPECT_EQ(at, text.size());
  }
  // Ids that stop in the middle of a character decode to U+FFFD.
  std::vector<int64_t> ids = bpe.encode(u8"é");
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(bpe.decode({ids[0]}), u8"\uFFFD");
}

TEST(Bpe, EncodeWordsAddsTheLeadingSpace) {
  BpeTokenizer bpe = small_bpe();
  auto ids = bpe.encode_words({"lower", "low"});
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], bpe.encode("lower"));
  EXPECT_EQ(ids[1], (std::vector<int64_t>{bpe.token_to_id("\xC4\xA0low")}));
}

TEST(Bpe, FilesSaveLoadAndErrors) {
  std::string dir = testing::scratch_dir("bpe-files");
  small_bpe().save(dir + "/saved");
  EXPECT_EQ(testing::read_file(dir + "/saved/merges.txt").substr(0, 14), "#version: 0.2\n");
  auto loaded = load_tokenizer(dir + "/saved", true);
  EXPECT_EQ(loaded->kind(), "bpe");
  EXPECT_EQ(loaded->encode("lower lower aaa"), small_bpe().encode("lower lower aaa"));
  auto by_json = load_tokenizer(dir + "/saved/vocab.json", false);
  EXPECT_EQ(by_json->vocab_size(), small_bpe().vocab_size());

  auto expect_error = [&](const std::string& vocab, const std::string& merges, const std::string& message) {
    testing::write_file(dir + "/bad/vocab.json", vocab);
    testing::write_file(dir + "/bad/merges.txt", merges);
    try {
      load_tokenizer(dir + "/bad", false);
      ADD_FAILURE() << "no error for " << message;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  };
  const std::string specials = R"("<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 4)";
  expect_error("{" + specials + ", \"a\": 5", "", "vocab.json: not valid JSON");
  expect_error("[1, 2]", "", "expected a JSON object");
  expect_error("{" + specials + ", \"a\": \"5\"}", "", "token \"a\": the id must be an integer");
  expect_error("{" + specials + ", \"a\": 4}", "", "id 4 is given to both");
  expect_error("{" + specials + ", \"a\": 99999999}", "", "far beyond");
  expect_error(R"({"<s>": 0})", "", "has no <pad> token");
  expect_error("{" + specials + "}", "#version: 0.2\na b\nabc\n", "merges.txt: line 3: expected two tokens");
  expect_error("{" + specials + "}", "a  b\n", "merges.txt: line 1: expected two tokens");
}

}  // namespace
}  // namespace cotrain::text
