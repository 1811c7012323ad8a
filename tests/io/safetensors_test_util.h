// Building safetensors files by hand for the io tests.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

namespace cotrain::io::test {

// 8-byte little-endian length of `header`, the header, then `data`.
inline std::string make_safetensors(const std::string& header, const std::string& data = "") {
  uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(&out[0], &n, 8);
  return out + header + data;
}

}  // namespace cotrain::io::test
