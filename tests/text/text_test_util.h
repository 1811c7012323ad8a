// Helpers shared by the tokenizer tests.
#pragma once
#include <string>
#include <vector>

#include "cotrain/text/utf8.h"

namespace cotrain::text::test {

// `text` with non-printable and non-ASCII characters as \u{...}, for failure messages.
inline std::string escaped(const std::string& text) {
  std::string out;
  size_t bad = 0;
  if (!is_valid_utf8(text, &bad)) return "<invalid UTF-8 at byte " + std::to_string(bad) + ">";
  for (char32_t cp : decode_utf8(text)) {
    if (cp >= 0x20 && cp < 0x7F && cp != '\\') {
      out.push_back(static_cast<char>(cp));
    } else {
      char buffer[16];
      std::snprintf(buffer, sizeof buffer, "\\u{%X}", static_cast<unsigned>(cp));
      out += buffer;
    }
  }
  return out;
}

inline std::string joined(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) out += (out.empty() ? "" : " ") + escaped(t);
  return "[" + out + "]";
}

}  // namespace cotrain::text::test
