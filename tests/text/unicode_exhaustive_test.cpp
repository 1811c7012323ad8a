// Every code point of planes 0-3 and 14 (and samples of the private-use planes)
// through the BERT basic tokenizer and GPT-2's pre-tokenizer, compared chunk by
// chunk with tests/reference/tok_unicode_ref.py (Python's unicodedata, str.lower,
// str.split and re). A mismatch names the chunk; `tok_unicode_ref.py --show HEX`
// prints Python's result for one code point.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>

#include "cotrain/text/basic_tokenizer.h"
#include "cotrain/text/gpt2_pretokenizer.h"
#include "cotrain/text/unicode.h"
#include "cotrain/text/utf8.h"
#include "support/support.h"

namespace cotrain::text {
namespace {

uint32_t crc32(const std::string& data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : data) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

std::string words_of(const BasicTokenizer& basic, const std::u32string& text) {
  std::string out;
  bool first = true;
  for (const BasicWord& w : basic.split(encode_utf8(text))) {
    if (!first) out += '\x1f';
    out += encode_utf8(w.chars);
    first = false;
  }
  return out;
}

std::string pieces_of(const std::u32string& text) {
  std::string out;
  bool first = true;
  for (const auto& [b, e] : gpt2_pretokenize(text)) {
    if (!first) out += '\x1f';
    out += encode_utf8(text.substr(b, e - b));
    first = false;
  }
  return out;
}

std::string describe(char32_t c, const BasicTokenizer& uncased, const BasicTokenizer& cased) {
  const char32_t sigma = 0x03A3;
  std::string out = words_of(uncased, std::u32string{U'a', c, U'b'});
  out += '\x1e' + words_of(cased, std::u32string{U'A', c, U'B'});
  out += '\x1e' + words_of(uncased, std::u32string{U'A', sigma, c});
  out += '\x1e' + words_of(uncased, std::u32string{c, sigma});
  out += '\x1e' + pieces_of(std::u32string{U'a', c, U'b', U' ', U'1', c, U'?', c});
  return out;
}

TEST(UnicodeTables, MatchPythonOnEveryCodePoint) {
  nlohmann::json chunks = nlohmann::json::parse(testing::run_reference("tok_unicode_ref.py", {}));
  ASSERT_GT(chunks.size(), 200u);
  BasicTokenizer uncased(true), cased(false);
  size_t checked = 0, mismatched = 0;
  for (const auto& chunk : chunks) {
    char32_t first = chunk[0].get<uint32_t>(), last = chunk[1].get<uint32_t>();
    std::string text;
    for (char32_t cp = first; cp <= last; ++cp) {
      if (cp != first) text += '\x1d';
      text += describe(cp, uncased, cased);
      ++checked;
    }
    if (crc32(text) != chunk[2].get<uint32_t>()) {
      ++mismatched;
      ADD_FAILURE() << "code points U+" << std::hex << first << "..U+" << last
                    << " tokenize differently from Python (run tok_unicode_ref.py --show HEX)";
      if (mismatched > 10) break;
    }
  }
  EXPECT_GT(checked, 260000u);
  EXPECT_STREQ(unicode_version(), "14.0.0");
}

}  // namespace
}  // namespace cotrain::text
