#include "cotrain/text/unicode.h"

#include <algorithm>

#include "cotrain/text/unicode_tables.h"

namespace cotrain::text {
namespace {

constexpr char32_t kMaxCodePoint = 0x10FFFF;
constexpr char32_t kHangulFirst = 0xAC00, kHangulLast = 0xD7A3;
constexpr char32_t kCapitalSigma = 0x03A3, kSmallSigma = 0x03C3, kFinalSigma = 0x03C2;

const tables::MappingEntry* find_mapping(const tables::MappingEntry* entries, size_t count, char32_t cp) {
  const tables::MappingEntry* end = entries + count;
  const tables::MappingEntry* it = std::lower_bound(
      entries, end, cp, [](const tables::MappingEntry& e, char32_t c) { return e.code_point < c; });
  return (it != end && it->code_point == cp) ? it : nullptr;
}

// Python's Final_Sigma test: cased (case-ignorable)* SIGMA !((case-ignorable)* cased).
bool is_final_sigma(const std::u32string& text, size_t i) {
  size_t j = i;
  char32_t before = 0;
  bool found_before = false;
  while (j > 0) {
    --j;
    if (!has_class(text[j], kCaseIgnorable)) {
      before = text[j];
      found_before = true;
      break;
    }
  }
  if (!found_before || !has_class(before, kCased)) return false;
  for (size_t k = i + 1; k < text.size(); ++k) {
    if (!has_class(text[k], kCaseIgnorable)) return !has_class(text[k], kCased);
  }
  return true;
}

}  // namespace

uint16_t char_class(char32_t cp) {
  if (cp > kMaxCodePoint) return 0;
  const tables::ClassRun* begin = tables::kClassRuns;
  const tables::ClassRun* end = begin + tables::kClassRunCount;
  // The last run whose first code point is <= cp (the first run starts at 0).
  const tables::ClassRun* it =
      std::upper_bound(begin, end, cp, [](char32_t c, const tables::ClassRun& r) { return c < r.first; });
  return (it - 1)->bits;
}

int combining_class(char32_t cp) {
  const tables::CombiningRange* begin = tables::kCombiningRanges;
  const tables::CombiningRange* end = begin + tables::kCombiningRangeCount;
  const tables::CombiningRange* it = std::upper_bound(
      begin, end, cp, [](char32_t c, const tables::CombiningRange& r) { return c < r.first; });
  if (it == begin) return 0;
  --it;
  return cp <= it->last ? it->ccc : 0;
}

const char* unicode_version() { return tables::kUnicodeVersion; }

void append_decomposition(char32_t cp, std::u32string& out) {
  if (cp >= kHangulFirst && cp <= kHangulLast) {
    // Unicode's algorithmic decomposition of Hangul syllables into conjoining jamo.
    char32_t s = cp - kHangulFirst;
    out.push_back(0x1100 + s / 588);
    out.push_back(0x1161 + (s % 588) / 28);
    if (s % 28 != 0) out.push_back(0x11A7 + s % 28);
    return;
  }
  if (const tables::MappingEntry* e = find_mapping(tables::kNfdEntries, tables::kNfdEntryCount, cp)) {
    out.append(tables::kNfdData + e->offset, e->length);
  } else {
    out.push_back(cp);
  }
}

std::u32string nfd(const std::u32string& text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_decomposition(cp, out);
  // Canonical ordering: stable sort of every run of non-starters by combining class.
  size_t i = 0;
  while (i < out.size()) {
    if (combining_class(out[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < out.size() && combining_class(out[j]) != 0) ++j;
    if (j - i > 1) {
      std::stable_sort(out.begin() + i, out.begin() + j,
                       [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    }
    i = j;
  }
  return out;
}

void append_lower_at(const std::u32string& text, size_t i, std::u32string& out) {
  char32_t cp = text[i];
  if (cp < 0x80) {
    out.push_back(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
    return;
  }
  if (cp == kCapitalSigma) {
    out.push_back(is_final_sigma(text, i) ? kFinalSigma : kSmallSigma);
    return;
  }
  if (const tables::MappingEntry* e = find_mapping(tables::kLowerEntries, tables::kLowerEntryCount, cp)) {
    out.append(tables::kLowerData + e->offset, e->length);
  } else {
    out.push_back(cp);
  }
}

std::u32string to_lower(const std::u32string& text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) append_lower_at(text, i, out);
  return out;
}

}  // namespace cotrain::text
