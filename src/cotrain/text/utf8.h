// Strict UTF-8 decoding and encoding. Invalid input (stray continuation bytes,
// truncated or overlong sequences, surrogates, code points above U+10FFFF) is a
// cotrain::Error naming the byte offset, never a crash or a silent replacement.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cotrain::text {

// Decodes `text`. When `byte_offsets` is given it receives, for every code point,
// the byte offset where it starts, plus one final entry equal to text.size().
// `context` starts the error message, e.g. "corpus.txt: line 12" (default "text").
std::u32string decode_utf8(std::string_view text, std::vector<size_t>* byte_offsets = nullptr,
                           std::string_view context = {});

// Throws the same error as decode_utf8 if `text` is not valid UTF-8.
void validate_utf8(std::string_view text, std::string_view context = {});
// True if `text` is valid UTF-8; otherwise false and `error_offset` gets the offset.
bool is_valid_utf8(std::string_view text, size_t* error_offset = nullptr);

void append_utf8(char32_t cp, std::string& out);
std::string encode_utf8(const std::u32string& text);
// Number of bytes of the UTF-8 encoding of `cp`.
size_t utf8_length(char32_t cp);

}  // namespace cotrain::text
