// Strict UTF-8: every kind of malformed input is a cotrain::Error that names the
// byte offset; valid text round-trips with exact offsets.
#include <gtest/gtest.h>

#include "cotrain/core/error.h"
#include "cotrain/text/bpe.h"
#include "cotrain/text/utf8.h"
#include "cotrain/text/wordpiece.h"

namespace cotrain::text {
namespace {

std::string error_of(const std::string& text, const std::string& context = {}) {
  try {
    decode_utf8(text, nullptr, context);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Utf8, RejectsMalformedSequencesWithTheirByteOffset) {
  struct Case {
    std::string text;
    size_t offset;
  };
  const std::vector<Case> cases = {
      {"abc\x80", 3},                 // stray continuation byte
      {"ab\xC3", 2},                  // truncated 2-byte sequence at the end
      {"a\xE2\x82 b", 1},             // truncated 3-byte sequence before a space
      {"\xC0\xAF", 0},                // overlong '/'
      {"xx\xE0\x80\xAF", 2},          // overlong 3-byte
      {"x\xF0\x82\x82\xAC", 1},       // overlong 4-byte
      {"ok \xED\xA0\x80", 3},         // UTF-16 surrogate U+D800
      {"\xF4\x90\x80\x80", 0},        // above U+10FFFF
      {"\xF8\x88\x80\x80\x80", 0},    // 5-byte form
      {"fine\xFF", 4},                // never valid
      {"\xC3\xA9\xC3(", 2},           // bad continuation after a good character
  };
  for (const Case& c : cases) {
    std::string message = error_of(c.text);
    EXPECT_NE(message.find("invalid UTF-8 at byte " + std::to_string(c.offset)), std::string::npos)
        << "offset " << c.offset << ": " << message;
    size_t offset = 99;
    EXPECT_FALSE(is_valid_utf8(c.text, &offset));
    EXPECT_EQ(offset, c.offset);
  }
  EXPECT_NE(error_of("\xFF", "corpus.txt: line 7").find("corpus.txt: line 7: invalid UTF-8 at byte 0"),
            std::string::npos);
}

TEST(Utf8, TokenizersRejectInvalidText) {
  WordPieceTokenizer wordpiece({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"}, true);
  EXPECT_THROW(wordpiece.encode("a \xE9t\xE9"), Error);
  std::unordered_map<std::string, int64_t> vocab = {{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3}, {"<mask>", 4}};
  BpeTokenizer bpe(vocab, {});
  try {
    bpe.encode("caf\xE9");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("byte 3"), std::string::npos) << e.what();
  }
}

TEST(Utf8, DecodesWithOffsetsAndEncodesBack) {
  const std::string text = u8"aé中😀";
  std::vector<size_t> offsets;
  std::u32string cps = decode_utf8(text, &offsets);
  EXPECT_EQ(cps, (std::u32string{U'a', 0xE9, 0x4E2D, 0x1F600}));
  EXPECT_EQ(offsets, (std::vector<size_t>{0, 1, 3, 6, 10}));
  EXPECT_EQ(encode_utf8(cps), text);
  for (char32_t cp : {0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    append_utf8(cp, s);
    EXPECT_EQ(s.size(), utf8_length(cp));
    EXPECT_EQ(decode_utf8(s), std::u32string(1, cp));
  }
}

}  // namespace
}  // namespace cotrain::text
