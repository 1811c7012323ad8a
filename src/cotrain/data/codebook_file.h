// Codebooks on disk: safetensors (formats.md), so that Python can read them too.
//   "centroids": F32 [k, dim]; metadata: "cotrain": "patch-codebook",
//   "temperature": T, and whatever `extra` adds (e.g. how it was fitted).
// The header stays free of LibTorch; the implementation goes through io/safetensors.
#pragma once
#include <map>
#include <string>

#include "cotrain/data/codebook.h"

namespace cotrain::data {

void save_codebook(const std::string& path, const Codebook& codebook,
                   const std::map<std::string, std::string>& extra = {});
// Validates the tensor's name, dtype and shape and the temperature; errors name the file.
Codebook load_codebook(const std::string& path);

}  // namespace cotrain::data
