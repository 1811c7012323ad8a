// Reading and writing whole Hugging Face model folders.
#include <ATen/ATen.h>

#include <map>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/io/hf_folder.h"

namespace cotrain::io {
namespace {

// What a user with only transformers' pickled weights can run once. clone() because
// the tied decoder shares memory with the word embeddings and save_file refuses that.
std::string transformers_hint(const std::string& dir, const char* from_flag = nullptr) {
  return fmt::format("AutoModelForMaskedLM.from_pretrained('{}'{}).save_pretrained('{}', safe_serialization=True)", dir,
                     from_flag ? fmt::format(", {}=True", from_flag) : "", dir);
}
std::string conversion_hint(const std::string& dir, const std::string& bin) {
  return fmt::format(
      "convert it once with Python: python3 -c \"import torch; from safetensors.torch import save_file; "
      "sd = torch.load('{}', map_location='cpu'); save_file({{k: v.clone().contiguous() for k, v in sd.items()}}, "
      "'{}', metadata={{'format': 'pt'}})\" (or with transformers: {})",
      bin, join_path(dir, "model.safetensors"), transformers_hint(dir));
}

// Tensors of model.safetensors, or of every shard listed in model.safetensors.index.json.
std::vector<std::pair<std::string, SafetensorsFile>> load_weight_files(const std::string& dir) {
  const std::string single = join_path(dir, "model.safetensors");
  if (is_regular_file(single)) return {{single, load_safetensors(single)}};

  const std::string index_path = join_path(dir, "model.safetensors.index.json");
  if (is_regular_file(index_path)) {
    nlohmann::json index;
    try {
      index = nlohmann::json::parse(read_whole_file(index_path));
    } catch (const nlohmann::json::exception&) {
      fail("{}: not valid JSON", index_path);
    }
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
      fail("{}: expected an object with a \"weight_map\" object", index_path);
    std::map<std::string, std::vector<std::string>> shards;  // file -> tensors the index puts there
    for (const auto& [tensor, shard] : index["weight_map"].items()) {
      if (!shard.is_string()) fail("{}: weight_map: {} must name a file", index_path, tensor);
      const std::string file = shard.get<std::string>();
      if (file.empty() || file.find('/') != std::string::npos || file == "..")
        fail("{}: weight_map: {}: \"{}\" is not a file name in the folder", index_path, tensor, file);
      shards[file].push_back(tensor);
    }
    std::vector<std::pair<std::string, SafetensorsFile>> out;
    for (const auto& [shard, tensors] : shards) {
      const std::string path = join_path(dir, shard);
      out.emplace_back(path, load_safetensors(path));
      for (const auto& tensor : tensors)
        if (!out.back().second.tensors.count(tensor))
          fail("{}: weight_map puts {} in {}, which has no such tensor", index_path, tensor, shard);
    }
    return out;
  }

  if (path_exists(join_path(dir, "pytorch_model.bin")))
    fail("{}: has pytorch_model.bin but no model.safetensors; cotrain does not read PyTorch pickle files: {}", dir,
         conversion_hint(dir, join_path(dir, "pytorch_model.bin")));
  const std::pair<const char*, const char*> others[] = {
      {"pytorch_model.bin.index.json", nullptr}, {"tf_model.h5", "from_tf"}, {"flax_model.msgpack", "from_flax"}};
  for (const auto& [other, flag] : others) {
    if (path_exists(join_path(dir, other)))
      fail("{}: has {} but no model.safetensors; convert it once with Python transformers: {}", dir, other,
           transformers_hint(dir, flag));
  }
  fail("{}: no model.safetensors (a Hugging Face model folder holds config.json, model.safetensors and a vocabulary)",
       dir);
}

bool is_floating(at::ScalarType t) {
  return t == at::kFloat || t == at::kDouble || t == at::kHalf || t == at::kBFloat16;
}

}  // namespace

HfFolder read_hf_folder(const std::string& dir) {
  if (!is_directory(dir)) {
    if (path_exists(dir)) fail("{}: expected a Hugging Face model folder, got a file", dir);
    fail("{}: no such folder", dir);
  }
  HfFolder folder;
  const std::string config_path = join_path(dir, "config.json");
  if (!is_regular_file(config_path))
    fail("{}: no config.json (a Hugging Face model folder holds config.json, model.safetensors and a vocabulary)", dir);
  folder.config = read_hf_config(config_path);
  const std::string& model_type = folder.config.type;

  std::map<std::string, std::string> source_name;  // canonical -> name in the file, for errors
  at::Tensor decoder_bias;                          // the MLM bias under its tied name only
  for (auto& [file, contents] : load_weight_files(dir)) {
    for (auto& [name, tensor] : contents.tensors) {
      const std::string canonical = canonical_weight_name(name, model_type);
      if (canonical.empty()) {
        folder.ignored.push_back(name);
        if (name == "cls.predictions.decoder.bias" || name == "lm_head.decoder.bias") decoder_bias = tensor;
        continue;
      }
      if (!is_floating(tensor.scalar_type()))
        fail("{}: tensor {}: dtype {} is not floating point, expected weights", file, name,
             c10::toString(tensor.scalar_type()));
      auto [it, inserted] = source_name.emplace(canonical, name);
      if (!inserted)
        fail("{}: tensors {} and {} are two spellings of the same weight {}", file, it->second, name, canonical);
      folder.weights[canonical] = tensor.to(at::kFloat).contiguous();
    }
  }
  // Some writers keep the MLM output bias only under the tied decoder's name.
  if (!folder.weights.count("cls.predictions.bias") && decoder_bias.defined() && is_floating(decoder_bias.scalar_type())) {
    folder.weights["cls.predictions.bias"] = decoder_bias.to(at::kFloat).contiguous();
    for (auto it = folder.ignored.begin(); it != folder.ignored.end(); ++it)
      if (*it == "cls.predictions.decoder.bias" || *it == "lm_head.decoder.bias") {
        folder.ignored.erase(it);
        break;
      }
  }

  // Vocabulary: WordPiece's vocab.txt, or byte-level BPE's vocab.json + merges.txt.
  if (is_regular_file(join_path(dir, "vocab.txt"))) folder.vocab_path = join_path(dir, "vocab.txt");
  else if (is_regular_file(join_path(dir, "vocab.json")) && is_regular_file(join_path(dir, "merges.txt")))
    folder.vocab_path = dir;

  folder.lowercase = model_type == "bert";
  const std::string tokenizer_config = join_path(dir, "tokenizer_config.json");
  if (is_regular_file(tokenizer_config)) {
    nlohmann::json tc;
    try {
      tc = nlohmann::json::parse(read_whole_file(tokenizer_config));
    } catch (const nlohmann::json::exception&) {
      fail("{}: not valid JSON", tokenizer_config);
    }
    if (tc.is_object() && tc.contains("do_lower_case") && !tc["do_lower_case"].is_null()) {
      if (!tc["do_lower_case"].is_boolean())
        fail("{}: do_lower_case must be true or false, got {}", tokenizer_config, tc["do_lower_case"].dump());
      folder.lowercase = tc["do_lower_case"].get<bool>();
    }
  }
  return folder;
}

void write_hf_folder(const std::string& dir, const ModelConfig& config, const TensorMap& canonical_weights) {
  const std::string architecture = hf_architecture(config.type);  // rejects unknown types first
  ensure_directory(dir);
  TensorMap named;
  for (const auto& [canonical, tensor] : canonical_weights) {
    // The decoder is tied to the word embeddings; transformers re-ties it on load.
    if (canonical == "cls.predictions.decoder.weight" || canonical == "cls.predictions.decoder.bias") continue;
    named[hf_weight_name(canonical, config.type)] = tensor;
  }
  save_safetensors(join_path(dir, "model.safetensors"), named, {{"format", "pt"}});
  write_file_atomically(join_path(dir, "config.json"), hf_config_json(config));
}

}  // namespace cotrain::io
