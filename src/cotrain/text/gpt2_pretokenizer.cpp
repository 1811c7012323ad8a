#include "cotrain/text/gpt2_pretokenizer.h"

#include "cotrain/text/unicode.h"

namespace cotrain::text {
namespace {

bool is_space(char32_t cp) { return has_class(cp, kWhiteSpace); }
bool is_letter(char32_t cp) { return has_class(cp, kLetter); }
bool is_number(char32_t cp) { return has_class(cp, kNumber); }
bool is_other(char32_t cp) { return !has_class(cp, kWhiteSpace | kLetter | kNumber); }

// Length of the contraction at text[i] ('s 't 're 've 'm 'll 'd), or 0.
size_t contraction_length(const std::u32string& text, size_t i) {
  if (text[i] != '\'' || i + 1 >= text.size()) return 0;
  char32_t a = text[i + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= text.size()) return 0;
  char32_t b = text[i + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

template <typename Class>
size_t run_length(const std::u32string& text, size_t i, Class in_class) {
  size_t j = i;
  while (j < text.size() && in_class(text[j])) ++j;
  return j - i;
}

// Length of the match of the pattern's alternatives, tried in order, at text[i].
size_t match_at(const std::u32string& text, size_t i) {
  if (size_t n = contraction_length(text, i)) return n;
  const char32_t c = text[i];
  const bool space_then = c == ' ' && i + 1 < text.size();
  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional ASCII space, then a run.
  for (bool (*in_class)(char32_t) : {is_letter, is_number, is_other}) {
    if (in_class(c)) return run_length(text, i, in_class);
    if (space_then && in_class(text[i + 1])) return 1 + run_length(text, i + 1, in_class);
  }
  // `\s+(?!\S)`: the whitespace run, less its last character when a non-space follows
  // (that character then goes with the next word); `\s+` when the run is a single one.
  size_t n = run_length(text, i, is_space);
  if (i + n == text.size() || n == 1) return n;
  return n - 1;
}

}  // namespace

std::vector<std::pair<size_t, size_t>> gpt2_pretokenize(const std::u32string& text) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t n = match_at(text, i);
    out.emplace_back(i, i + n);
    i += n;
  }
  return out;
}

}  // namespace cotrain::text
