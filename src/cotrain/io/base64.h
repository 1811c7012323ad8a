// Base64 (RFC 4648, standard alphabet, '=' padding), strict: the region-feature TSV
// files carry raw float32 arrays this way, and a corrupt field must be caught here
// rather than turn into garbage features. No LibTorch.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cotrain::io {

std::string base64_encode(const void* data, std::size_t size);

// Decodes `text`; on bad input returns false and says why in `why` (character and
// offset, or length/padding problem). Accepts only the padded standard form: length
// a multiple of 4, at most two '=' and only at the end, no whitespace.
bool base64_decode(std::string_view text, std::vector<std::uint8_t>& out, std::string& why);

// Decodes a base64 field holding raw little-endian float32 values (any host byte
// order). Fails, with the reason in `why`, on bad base64 or a byte count that is not
// a multiple of 4.
bool base64_decode_floats(std::string_view text, std::vector<float>& out, std::string& why);

// Encodes float32 values as little-endian bytes in base64.
std::string base64_encode_floats(const float* values, std::size_t count);

}  // namespace cotrain::io
