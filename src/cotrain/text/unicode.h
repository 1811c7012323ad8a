// The Unicode facts the tokenizers need, from tables generated out of Python's
// unicodedata (scripts/gen_unicode_tables.py), so that results match the Python
// tokenizers the pretrained vocabularies were made with. No ICU.
#pragma once
#include <cstdint>
#include <string>

namespace cotrain::text {

// Property bits of one code point; keep in sync with scripts/gen_unicode_tables.py.
enum CharClass : uint16_t {
  kPunctuation = 1 << 0,    // general category P*
  kControl = 1 << 1,        // Cc or Cf
  kSpaceSeparator = 1 << 2, // Zs
  kNonspacingMark = 1 << 3, // Mn
  kLetter = 1 << 4,         // L*
  kNumber = 1 << 5,         // N*
  kPythonSpace = 1 << 6,    // Python's str.isspace() (what str.split() splits on)
  kWhiteSpace = 1 << 7,     // Unicode White_Space property (\s of GPT-2's pattern)
  kCaseIgnorable = 1 << 8,  // as str.lower()'s final-sigma rule sees it
  kCased = 1 << 9,          // cased and not case-ignorable
};

// All property bits of `cp` (0 for code points beyond U+10FFFF).
uint16_t char_class(char32_t cp);
inline bool has_class(char32_t cp, uint16_t bits) { return (char_class(cp) & bits) != 0; }

// Canonical combining class (0 for starters).
int combining_class(char32_t cp);

// The Unicode version of the tables, e.g. "14.0.0".
const char* unicode_version();

// Appends the full canonical decomposition of one code point (itself if none;
// Hangul syllables decompose algorithmically). Not yet canonically ordered.
void append_decomposition(char32_t cp, std::u32string& out);

// NFD of a whole string: decomposition followed by canonical ordering.
std::u32string nfd(const std::u32string& text);

// Lowercase as Python's str.lower(): full mappings (U+0130 -> "i\u0307") and the
// contextual final sigma (U+03A3 -> U+03C2 at the end of a word).
std::u32string to_lower(const std::u32string& text);
// The lowercase mapping of `text[i]` in its context, appended to `out`.
void append_lower_at(const std::u32string& text, size_t i, std::u32string& out);

}  // namespace cotrain::text
