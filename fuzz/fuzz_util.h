// Shared by the libFuzzer targets: most readers take a path, so the fuzz input is
// written to a scratch file first (one per process, reused across executions).
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

namespace cotrain::fuzz {

// A file under /tmp named after the process and `name` (keep the extension: some
// readers choose the format by it), holding `size` bytes of `data`.
inline std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = "/tmp/cotrain-fuzz-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Splits an input at its first NUL byte: two files' worth of input from one buffer
// (a vocabulary and a text, vocab.json and merges.txt). `second` is empty without NUL.
inline void split_at_nul(const uint8_t* data, size_t size, std::string& first, std::string& second) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  first = all.substr(0, nul);
  second = nul == std::string::npos ? std::string() : all.substr(nul + 1);
}

}  // namespace cotrain::fuzz
