// Copying named tensors (a checkpoint, a Hugging Face folder) into a module's
// parameters, matched by name. Names are the module's named_parameters() names, which
// for cotrain models are the canonical checkpoint names (io/hf_folder.h), so a
// TensorMap from read_hf_folder() loads without a renaming table.
#pragma once
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "cotrain/io/safetensors.h"

namespace cotrain::models {

struct WeightMismatch {
  std::string name;
  std::vector<int64_t> expected;  // the parameter's shape
  std::vector<int64_t> found;     // the tensor's shape
  std::string why;                // "shape" or e.g. "dtype I64 is not floating point"
};

// What load_weights() did. Lists are sorted by name.
struct WeightLoadReport {
  std::vector<std::string> loaded;      // parameters that received a tensor
  std::vector<std::string> missing;     // parameters with no tensor of that name
  std::vector<std::string> unexpected;  // tensors with no parameter of that name
  std::vector<WeightMismatch> mismatched;

  bool complete() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // One line naming every problem, e.g. "missing: a.weight; shape: b.bias [4] vs [5]";
  // empty when complete().
  std::string describe() const;
};

enum class LoadMode {
  strict,   // any missing, unexpected or mismatched tensor is an Error; nothing is copied
  partial,  // copy what matches, report the rest (fine-tuning from a pretrained body)
};

// Copies each tensor into the parameter of the same name (converting dtype and
// device; the parameter keeps its own), under no-grad. `source` names where the
// tensors came from in error messages (a file or folder).
WeightLoadReport load_weights(torch::nn::Module& module, const io::TensorMap& tensors,
                              LoadMode mode = LoadMode::strict, const std::string& source = "weights");

// The module's parameters as a TensorMap (detached contiguous CPU copies in the
// parameters' dtype) under their names: what a checkpoint writer saves.
io::TensorMap weights_of(const torch::nn::Module& module);

}  // namespace cotrain::models
