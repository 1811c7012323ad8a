#include "cotrain/text/utf8.h"

#include "cotrain/core/error.h"

namespace cotrain::text {
namespace {

// Decodes the sequence starting at text[i]. Returns its length in bytes (0 if the
// bytes there are not valid UTF-8) and the code point in `cp`.
size_t decode_one(std::string_view text, size_t i, char32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t length;
  char32_t min_value;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2, cp = b0 & 0x1F, min_value = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3, cp = b0 & 0x0F, min_value = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4, cp = b0 & 0x07, min_value = 0x10000;
  } else {
    return 0;  // continuation byte, 0xC0/0xC1 (always overlong) or 0xF5..0xFF
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min_value || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

[[noreturn]] void fail_at(std::string_view text, size_t offset, std::string_view context) {
  unsigned char b = static_cast<unsigned char>(text[offset]);
  fail("{}: invalid UTF-8 at byte {} (0x{:02X}); the text must be UTF-8 encoded",
       context.empty() ? std::string_view("text") : context, offset, b);
}

}  // namespace

std::u32string decode_utf8(std::string_view text, std::vector<size_t>* byte_offsets, std::string_view context) {
  std::u32string out;
  out.reserve(text.size());
  if (byte_offsets) {
    byte_offsets->clear();
    byte_offsets->reserve(text.size() + 1);
  }
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    size_t n = decode_one(text, i, cp);
    if (n == 0) fail_at(text, i, context);
    out.push_back(cp);
    if (byte_offsets) byte_offsets->push_back(i);
    i += n;
  }
  if (byte_offsets) byte_offsets->push_back(text.size());
  return out;
}

bool is_valid_utf8(std::string_view text, size_t* error_offset) {
  size_t i = 0;
  while (i < text.size()) {
    char32_t cp;
    size_t n = decode_one(text, i, cp);
    if (n == 0) {
      if (error_offset) *error_offset = i;
      return false;
    }
    i += n;
  }
  return true;
}

void validate_utf8(std::string_view text, std::string_view context) {
  size_t offset = 0;
  if (!is_valid_utf8(text, &offset)) fail_at(text, offset, context);
}

size_t utf8_length(char32_t cp) {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(const std::u32string& text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(cp, out);
  return out;
}

}  // namespace cotrain::text
