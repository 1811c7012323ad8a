// BERT's "basic tokenizer": the normalisation and word splitting that runs before
// WordPiece (formats.md, "Vocabularies and tokenizers"), in BERT's order:
//   1. clean: drop U+0000, U+FFFD and control characters (Cc/Cf other than \t \n \r),
//      map whitespace (space, \t, \n, \r, Zs) to a space;
//   2. put spaces around every CJK ideograph (BERT's ranges);
//   3. split on whitespace as Python's str.split() does;
//   4. uncased only: lowercase each word as str.lower(), NFD, drop Mn (accents);
//   5. split off every punctuation character (ASCII 33-47, 58-64, 91-96, 123-126 and
//      Unicode P*) as a word of its own.
// Differences from Hugging Face's BertTokenizer, on purpose: like Google's original
// BERT, only Cc/Cf count as control (HF also drops Co/Cn), and there is no NFC step.
// Each output character remembers the byte range of the input it came from.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cotrain::text {

struct ByteSpan {
  uint32_t begin = 0, end = 0;  // byte offsets in the original input, end exclusive
};

struct BasicWord {
  std::u32string chars;          // normalised characters
  std::vector<ByteSpan> spans;   // one per character
  ByteSpan range;                // the whole word in the input
};

// BERT's character classes.
bool is_bert_whitespace(char32_t cp);
bool is_bert_control(char32_t cp);
bool is_bert_punctuation(char32_t cp);
bool is_cjk_ideograph(char32_t cp);

class BasicTokenizer {
 public:
  explicit BasicTokenizer(bool lowercase) : lowercase_(lowercase) {}
  bool lowercase() const { return lowercase_; }

  // Words of `text`. Invalid UTF-8 throws cotrain::Error naming `context` and the byte.
  // Inputs of 4 GiB or more are rejected (offsets are 32-bit).
  std::vector<BasicWord> split(std::string_view text, std::string_view context = {}) const;

 private:
  // Steps 4 and 5 for one whitespace-delimited token.
  void finish_token(const BasicWord& token, std::vector<BasicWord>& out) const;

  bool lowercase_;
};

}  // namespace cotrain::text
