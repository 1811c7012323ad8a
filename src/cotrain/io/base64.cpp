#include "cotrain/io/base64.h"

#include <array>
#include <cstring>

#include <fmt/format.h>

namespace cotrain::io {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t kInvalid = 0xFF;

std::array<std::uint8_t, 256> make_table() {
  std::array<std::uint8_t, 256> t{};
  t.fill(kInvalid);
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  return t;
}
const std::array<std::uint8_t, 256> kTable = make_table();

std::string describe_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 33 && u < 127) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

bool host_is_little_endian() {
  const std::uint32_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

}  // namespace

std::string base64_encode(const void* data, std::size_t size) {
  const auto* in = static_cast<const unsigned char*>(data);
  std::string out;
  out.resize((size + 2) / 3 * 4);
  std::size_t o = 0, i = 0;
  for (; i + 3 <= size; i += 3) {
    std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = kAlphabet[v & 63];
  }
  if (size - i == 1) {
    std::uint32_t v = in[i] << 16;
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = '=';
    out[o++] = '=';
  } else if (size - i == 2) {
    std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8);
    out[o++] = kAlphabet[(v >> 18) & 63];
    out[o++] = kAlphabet[(v >> 12) & 63];
    out[o++] = kAlphabet[(v >> 6) & 63];
    out[o++] = '=';
  }
  return out;
}

namespace {

// Checks length and padding; returns the decoded size, or -1 with `why` set.
long long decoded_size(std::string_view text, std::string& why) {
  const std::size_t n = text.size();
  if (n == 0) {
    why = "empty base64 field";
    return -1;
  }
  if (n % 4 != 0) {
    why = fmt::format("base64 length {} is not a multiple of 4 (truncated field?)", n);
    return -1;
  }
  std::size_t pad = 0;
  if (text[n - 1] == '=') pad = (text[n - 2] == '=') ? 2 : 1;
  return static_cast<long long>(n / 4 * 3 - pad);
}

// Decodes `text` (already checked by decoded_size) into `dst`.
bool decode_into(std::string_view text, std::uint8_t* dst, std::string& why) {
  const std::size_t n = text.size();
  std::size_t pad = 0;
  if (text[n - 1] == '=') pad = (text[n - 2] == '=') ? 2 : 1;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t full = (pad ? n - 4 : n);
  // Hot loop: OR the four table values together, so that one test per quartet
  // catches any invalid character (the table maps them to 0xFF).
  for (std::size_t i = 0; i < full; i += 4) {
    std::uint8_t a = kTable[s[i]], b = kTable[s[i + 1]], c = kTable[s[i + 2]], d = kTable[s[i + 3]];
    if ((a | b | c | d) & 0xC0) {
      for (std::size_t k = i; k < i + 4; ++k) {
        if (kTable[s[k]] == kInvalid) {
          why = text[k] == '='
                    ? fmt::format("base64 padding '=' at offset {} before the end", k)
                    : fmt::format("invalid base64 character {} at offset {}", describe_char(text[k]), k);
          return false;
        }
      }
    }
    std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    *dst++ = static_cast<std::uint8_t>(v >> 16);
    *dst++ = static_cast<std::uint8_t>(v >> 8);
    *dst++ = static_cast<std::uint8_t>(v);
  }
  if (pad) {
    const std::size_t i = n - 4;
    const std::size_t data_chars = 4 - pad;
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      std::uint8_t x = 0;
      if (k < data_chars) {
        x = kTable[s[i + k]];
        if (x == kInvalid) {
          why = text[i + k] == '='
                    ? fmt::format("bad base64 padding at offset {}", i + k)
                    : fmt::format("invalid base64 character {} at offset {}", describe_char(text[i + k]), i + k);
          return false;
        }
      }
      v |= static_cast<std::uint32_t>(x) << (18 - 6 * k);
    }
    *dst++ = static_cast<std::uint8_t>(v >> 16);
    if (pad == 1) *dst++ = static_cast<std::uint8_t>(v >> 8);
  }
  return true;
}

}  // namespace

bool base64_decode(std::string_view text, std::vector<std::uint8_t>& out, std::string& why) {
  out.clear();
  const long long size = decoded_size(text, why);
  if (size < 0) return false;
  out.resize(static_cast<std::size_t>(size));
  if (!decode_into(text, out.data(), why)) {
    out.clear();
    return false;
  }
  return true;
}

bool base64_decode_floats(std::string_view text, std::vector<float>& out, std::string& why) {
  const long long size = decoded_size(text, why);
  if (size < 0) return false;
  if (size % 4 != 0) {
    why = fmt::format("{} decoded bytes are not a whole number of float32 values", size);
    return false;
  }
  out.resize(static_cast<std::size_t>(size / 4));
  // Little-endian host: decode straight into the floats, no second copy.
  if (!decode_into(text, reinterpret_cast<std::uint8_t*>(out.data()), why)) {
    out.clear();
    return false;
  }
  if (!host_is_little_endian()) {
    for (auto& f : out) {
      std::uint8_t b[4];
      std::memcpy(b, &f, 4);
      std::uint32_t v = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
      std::memcpy(&f, &v, 4);
    }
  }
  return true;
}

std::string base64_encode_floats(const float* values, std::size_t count) {
  if (host_is_little_endian()) return base64_encode(values, count * 4);
  std::vector<std::uint8_t> bytes(count * 4);
  for (std::size_t i = 0; i < count; ++i) {
    std::uint32_t v;
    std::memcpy(&v, &values[i], 4);
    for (int b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<std::uint8_t>(v >> (8 * b));
  }
  return base64_encode(bytes.data(), bytes.size());
}

}  // namespace cotrain::io
