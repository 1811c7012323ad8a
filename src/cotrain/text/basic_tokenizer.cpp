#include "cotrain/text/basic_tokenizer.h"

#include <algorithm>
#include <limits>

#include "cotrain/core/error.h"
#include "cotrain/text/unicode.h"
#include "cotrain/text/utf8.h"

namespace cotrain::text {
namespace {

struct SpannedChar {
  char32_t cp;
  ByteSpan span;
};

// Canonical ordering (part of NFD) of characters that carry their spans along.
void canonical_order(std::vector<SpannedChar>& chars) {
  size_t i = 0;
  while (i < chars.size()) {
    if (combining_class(chars[i].cp) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < chars.size() && combining_class(chars[j].cp) != 0) ++j;
    if (j - i > 1) {
      std::stable_sort(chars.begin() + i, chars.begin() + j, [](const SpannedChar& a, const SpannedChar& b) {
        return combining_class(a.cp) < combining_class(b.cp);
      });
    }
    i = j;
  }
}

void push_word(std::vector<SpannedChar>::const_iterator first, std::vector<SpannedChar>::const_iterator last,
               std::vector<BasicWord>& out) {
  if (first == last) return;
  BasicWord word;
  word.range = first->span;
  for (auto it = first; it != last; ++it) {
    word.chars.push_back(it->cp);
    word.spans.push_back(it->span);
    word.range.begin = std::min(word.range.begin, it->span.begin);
    word.range.end = std::max(word.range.end, it->span.end);
  }
  out.push_back(std::move(word));
}

}  // namespace

bool is_bert_whitespace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || has_class(cp, kSpaceSeparator);
}

bool is_bert_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;  // BERT counts these as whitespace
  return has_class(cp, kControl);
}

bool is_bert_punctuation(char32_t cp) {
  // BERT treats every non-letter, non-digit printable ASCII character as punctuation
  // ("^", "$", "`" are symbols in Unicode), plus every Unicode P* character.
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  return has_class(cp, kPunctuation);
}

bool is_cjk_ideograph(char32_t cp) {
  // The CJK Unified Ideographs blocks as BERT defines them (not Hangul, Hiragana, Katakana).
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::vector<BasicWord> BasicTokenizer::split(std::string_view text, std::string_view context) const {
  if (text.size() >= std::numeric_limits<uint32_t>::max()) {
    fail("{}: text of {} bytes is too long to tokenize (limit 4 GiB)", context.empty() ? "text" : context,
         text.size());
  }
  std::vector<size_t> offsets;
  std::u32string cps = decode_utf8(text, &offsets, context);
  std::vector<BasicWord> out;
  BasicWord token;
  auto flush = [&] {
    if (!token.chars.empty()) finish_token(token, out);
    token.chars.clear();
    token.spans.clear();
  };
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t cp = cps[i];
    ByteSpan span{static_cast<uint32_t>(offsets[i]), static_cast<uint32_t>(offsets[i + 1])};
    if (cp == 0 || cp == 0xFFFD || is_bert_control(cp)) continue;  // dropped, the word goes on
    // BERT's whitespace becomes a space; str.split() also splits on the few other
    // characters Python calls space (U+2028, U+2029) that survive cleaning.
    if (is_bert_whitespace(cp) || has_class(cp, kPythonSpace)) {
      flush();
      continue;
    }
    if (is_cjk_ideograph(cp)) {
      flush();
      token.chars.push_back(cp);
      token.spans.push_back(span);
      flush();
      continue;
    }
    token.chars.push_back(cp);
    token.spans.push_back(span);
  }
  flush();
  return out;
}

void BasicTokenizer::finish_token(const BasicWord& token, std::vector<BasicWord>& out) const {
  std::vector<SpannedChar> chars;
  chars.reserve(token.chars.size() + 4);
  if (!lowercase_) {
    for (size_t i = 0; i < token.chars.size(); ++i) chars.push_back({token.chars[i], token.spans[i]});
  } else {
    // Lowercase the whole token (final sigma looks at its neighbours), then NFD.
    std::u32string mapped;
    for (size_t i = 0; i < token.chars.size(); ++i) {
      mapped.clear();
      append_lower_at(token.chars, i, mapped);
      std::u32string decomposed;
      for (char32_t cp : mapped) append_decomposition(cp, decomposed);
      for (char32_t cp : decomposed) chars.push_back({cp, token.spans[i]});
    }
    canonical_order(chars);
    // Drop nonspacing marks; the byte range of a dropped accent joins its neighbour,
    // so that sub-word ranges still cover the whole input word.
    std::vector<SpannedChar> kept;
    kept.reserve(chars.size());
    bool pending = false;
    ByteSpan pending_span;
    for (const SpannedChar& c : chars) {
      if (has_class(c.cp, kNonspacingMark)) {
        if (!kept.empty()) {
          kept.back().span.begin = std::min(kept.back().span.begin, c.span.begin);
          kept.back().span.end = std::max(kept.back().span.end, c.span.end);
        } else if (!pending) {
          pending = true;
          pending_span = c.span;
        } else {
          pending_span.begin = std::min(pending_span.begin, c.span.begin);
          pending_span.end = std::max(pending_span.end, c.span.end);
        }
        continue;
      }
      SpannedChar k = c;
      if (pending && kept.empty()) {
        k.span.begin = std::min(k.span.begin, pending_span.begin);
        k.span.end = std::max(k.span.end, pending_span.end);
        pending = false;
      }
      kept.push_back(k);
    }
    chars.swap(kept);
  }
  // Every punctuation character becomes a word of its own.
  auto word_begin = chars.cbegin();
  for (auto it = chars.cbegin(); it != chars.cend(); ++it) {
    if (is_bert_punctuation(it->cp)) {
      push_word(word_begin, it, out);
      push_word(it, it + 1, out);
      word_begin = it + 1;
    }
  }
  push_word(word_begin, chars.cend(), out);
}

}  // namespace cotrain::text
