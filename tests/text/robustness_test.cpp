// Untrusted input: random bytes and random code points from every plane go through
// both tokenizers and the trainer. The result is either pieces with sane ranges or a
// cotrain::Error (for invalid UTF-8) -- never a crash (run under ASan/UBSan with
// -DCOTRAIN_SANITIZE=ON to check the "no out-of-bounds read" part).
#include <gtest/gtest.h>

#include <random>

#include "cotrain/core/error.h"
#include "cotrain/text/bpe.h"
#include "cotrain/text/utf8.h"
#include "cotrain/text/wordpiece.h"
#include "cotrain/text/wordpiece_trainer.h"

namespace cotrain::text {
namespace {

std::vector<std::string> wordpiece_vocab() {
  std::vector<std::string> v = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (char c = 'a'; c <= 'z'; ++c) {
    v.push_back(std::string(1, c));
    v.push_back("##" + std::string(1, c));
  }
  v.push_back("##");
  v.push_back("");
  return v;
}

BpeTokenizer bpe() {
  std::unordered_map<std::string, int64_t> vocab = {{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}, {"<mask>", 4}};
  std::vector<std::pair<std::string, std::string>> merges;
  for (char32_t c : bytes_to_unicode()) {
    std::string s;
    append_utf8(c, s);
    vocab.emplace(s, static_cast<int64_t>(vocab.size()));
  }
  merges = {{"a", "b"}, {"ab", "c"}, {"\xC4\xA0", "a"}};
  return BpeTokenizer(vocab, merges);
}

void check(const Tokenizer& tok, const std::string& text) {
  std::vector<Piece> pieces;
  try {
    pieces = tok.encode_with_offsets(text);
  } catch (const Error&) {
    EXPECT_FALSE(is_valid_utf8(text));
    return;
  }
  EXPECT_TRUE(is_valid_utf8(text));
  for (const Piece& p : pieces) {
    ASSERT_GE(p.id, 0);
    ASSERT_LT(p.id, tok.vocab_size());
    ASSERT_LT(p.begin, p.end);
    ASSERT_LE(p.end, text.size());
  }
  if (tok.kind() == "bpe") EXPECT_EQ(tok.decode(tok.encode(text)), text);
}

TEST(Robustness, RandomBytesAndCodePoints) {
  WordPieceTokenizer uncased(wordpiece_vocab(), true), cased(wordpiece_vocab(), false);
  BpeTokenizer byte_level = bpe();
  std::mt19937 rng(5);
  WordPieceTrainerOptions options;
  options.vocab_size = 200;
  options.progress = false;
  WordPieceTrainer trainer(options);
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const int n = rng() % 40;
    if (i % 2 == 0) {
      for (int k = 0; k < n; ++k) text.push_back(static_cast<char>(rng() & 0xFF));
    } else {
      for (int k = 0; k < n; ++k) {
        char32_t cp = rng() % 4 == 0 ? rng() % 0x80 : rng() % 0x110000;
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
        append_utf8(cp, text);
      }
    }
    check(uncased, text);
    check(cased, text);
    check(byte_level, text);
    if (is_valid_utf8(text)) trainer.add_line(text);
  }
  std::vector<std::string> vocab = trainer.train();
  EXPECT_LE(vocab.size(), 200u);
  WordPieceTokenizer trained(vocab, true);
  for (int64_t id = 0; id < trained.vocab_size(); ++id) EXPECT_TRUE(is_valid_utf8(trained.id_to_token(id)));
}

}  // namespace
}  // namespace cotrain::text
