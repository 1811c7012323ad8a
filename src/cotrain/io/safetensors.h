// safetensors: read and write, every field of an untrusted file validated (formats.md).
#pragma once
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace cotrain::io {

using TensorMap = std::map<std::string, at::Tensor>;

struct SafetensorsFile {
  TensorMap tensors;                             // CPU, contiguous, dtype as stored
  std::map<std::string, std::string> metadata;   // "__metadata__"
};

// Parses a whole file held in memory. `name` is used in error messages.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& name);
SafetensorsFile parse_safetensors(const char* bytes, size_t size, const std::string& name);
// Maps the file (or reads it where mapping fails) and parses it.
SafetensorsFile load_safetensors(const std::string& path);

// Writes atomically (temporary file in the same folder, fsync, rename).
// Supported dtypes: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL.
void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata = {});
std::string serialize_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata = {});

}  // namespace cotrain::io
