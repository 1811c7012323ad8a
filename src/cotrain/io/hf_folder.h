// Hugging Face model folders (config.json + model.safetensors + vocabulary).
//
// Inside cotrain, weights use one canonical naming: the names of Hugging Face's
// BertForMaskedLM, e.g. "bert.encoder.layer.0.attention.self.query.weight",
// "cls.predictions.transform.dense.weight", "cls.predictions.bias". Reading maps every
// other spelling onto it (bare BertModel names without "bert.", "roberta." and
// "lm_head.*", legacy LayerNorm gamma/beta); writing maps back to the spelling of the
// folder's model_type, so that Hugging Face reads what we write.
#pragma once
#include <string>
#include <vector>

#include "cotrain/core/config.h"
#include "cotrain/io/safetensors.h"

namespace cotrain::io {

struct HfFolder {
  ModelConfig config;
  TensorMap weights;           // canonical names
  std::string vocab_path;      // vocab.txt file, or the folder (vocab.json + merges.txt); empty if none
  bool lowercase = true;       // from tokenizer_config.json's do_lower_case when present
  std::vector<std::string> ignored;  // tensors in the file that cotrain does not use
};

// Reads config.json into a ModelConfig (unknown keys ignored, missing required keys
// and wrong types are errors naming the file and key).
ModelConfig read_hf_config(const std::string& config_json_path);
// The same from the file's text; `file` names it in errors.
ModelConfig parse_hf_config(const std::string& text, const std::string& file);
// config.json text for `config`: every key above, model_type and architectures.
std::string hf_config_json(const ModelConfig& config);
// "BertForMaskedLM" / "RobertaForMaskedLM"; other types are an Error.
std::string hf_architecture(const std::string& model_type);

// Reads a folder. A folder with only pytorch_model.bin gets an error explaining how
// to convert it to safetensors. Every problem names the file (and tensor). Weights
// are converted to float32; sharded folders (model.safetensors.index.json) are read
// too. Non-floating tensors under a weight's name are an error.
HfFolder read_hf_folder(const std::string& dir);

// Maps a tensor name from any supported spelling to the canonical one; returns ""
// for tensors cotrain does not use (position_ids buffers, NSP head, tied decoder).
std::string canonical_weight_name(const std::string& name, const std::string& model_type);
// Maps a canonical name to the spelling of `model_type` (bert or roberta).
std::string hf_weight_name(const std::string& canonical, const std::string& model_type);

// Writes config.json (with model_type and architectures) and model.safetensors
// (names in model_type's spelling) into `dir`, creating it. Vocabulary files are
// written by the tokenizer's save().
void write_hf_folder(const std::string& dir, const ModelConfig& config, const TensorMap& canonical_weights);

}  // namespace cotrain::io
