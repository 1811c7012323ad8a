// config.json of a Hugging Face BERT / RoBERTa folder <-> ModelConfig.
#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/io/hf_folder.h"

namespace cotrain::io {
namespace {

using nlohmann::json;

// Hugging Face's own defaults (BertConfig / RobertaConfig), used for absent keys.
// Written out here rather than taken from ModelConfig's defaults, which are cotrain's
// choices and may change.
ModelConfig hf_defaults(const std::string& model_type) {
  ModelConfig c;
  c.type = model_type;
  c.vocab_size = 30522;
  c.hidden_size = 768;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.intermediate_size = 3072;
  c.hidden_act = "gelu";
  c.hidden_dropout_prob = 0.1;
  c.attention_probs_dropout_prob = 0.1;
  c.max_position_embeddings = 512;
  c.type_vocab_size = 2;
  c.initializer_range = 0.02;
  c.layer_norm_eps = 1e-12;
  c.pad_token_id = model_type == "roberta" ? 1 : 0;
  return c;
}

// Assigns config[key] to `field` when present and not null; a wrong JSON type is an
// error naming the file and the key.
void read_key(const json& config, const char* key, int64_t& field, const std::string& file) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return;
  if (!it->is_number_integer()) fail("{}: {} must be an integer, got {}", file, key, it->dump());
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    fail("{}: {} is out of range: {}", file, key, it->dump());
  field = it->get<int64_t>();
}
void read_key(const json& config, const char* key, double& field, const std::string& file) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return;
  if (!it->is_number()) fail("{}: {} must be a number, got {}", file, key, it->dump());
  field = it->get<double>();
}
void read_key(const json& config, const char* key, std::string& field, const std::string& file) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return;
  if (!it->is_string()) fail("{}: {} must be a string, got {}", file, key, it->dump());
  field = it->get<std::string>();
}

void check_ranges(const ModelConfig& c, const std::string& file) {
  auto positive = [&](const char* key, int64_t v) {
    if (v <= 0) fail("{}: {} must be positive, got {}", file, key, v);
  };
  positive("vocab_size", c.vocab_size);
  positive("hidden_size", c.hidden_size);
  positive("num_hidden_layers", c.num_hidden_layers);
  positive("num_attention_heads", c.num_attention_heads);
  positive("intermediate_size", c.intermediate_size);
  positive("max_position_embeddings", c.max_position_embeddings);
  positive("type_vocab_size", c.type_vocab_size);
  if (c.hidden_size % c.num_attention_heads != 0)
    fail("{}: hidden_size {} is not a multiple of num_attention_heads {}", file, c.hidden_size, c.num_attention_heads);
  if (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size)
    fail("{}: pad_token_id {} is outside the vocabulary [0, {})", file, c.pad_token_id, c.vocab_size);
  if (!(c.hidden_dropout_prob >= 0 && c.hidden_dropout_prob < 1))
    fail("{}: hidden_dropout_prob must be in [0, 1), got {}", file, c.hidden_dropout_prob);
  if (!(c.attention_probs_dropout_prob >= 0 && c.attention_probs_dropout_prob < 1))
    fail("{}: attention_probs_dropout_prob must be in [0, 1), got {}", file, c.attention_probs_dropout_prob);
  if (!(c.layer_norm_eps > 0)) fail("{}: layer_norm_eps must be positive, got {}", file, c.layer_norm_eps);
  if (!(c.initializer_range >= 0)) fail("{}: initializer_range must be non-negative, got {}", file, c.initializer_range);
}

}  // namespace

ModelConfig parse_hf_config(const std::string& text, const std::string& file) {
  json config;
  try {
    config = json::parse(text);
  } catch (const json::exception& e) {
    std::string why = e.what();
    if (auto bracket = why.find("] "); bracket != std::string::npos) why = why.substr(bracket + 2);
    fail("{}: not valid JSON: {}", file, why);
  }
  if (!config.is_object()) fail("{}: must hold a JSON object, got {}", file, config.type_name());

  auto type_it = config.find("model_type");
  if (type_it == config.end()) fail("{}: model_type is missing (cotrain reads \"bert\" and \"roberta\" folders)", file);
  if (!type_it->is_string()) fail("{}: model_type must be a string, got {}", file, type_it->dump());
  const std::string model_type = type_it->get<std::string>();
  if (model_type != "bert" && model_type != "roberta")
    fail("{}: model_type \"{}\" is not supported (cotrain reads \"bert\" and \"roberta\")", file, model_type);

  ModelConfig c = hf_defaults(model_type);
  read_key(config, "vocab_size", c.vocab_size, file);
  read_key(config, "hidden_size", c.hidden_size, file);
  read_key(config, "num_hidden_layers", c.num_hidden_layers, file);
  read_key(config, "num_attention_heads", c.num_attention_heads, file);
  read_key(config, "intermediate_size", c.intermediate_size, file);
  read_key(config, "hidden_act", c.hidden_act, file);
  read_key(config, "hidden_dropout_prob", c.hidden_dropout_prob, file);
  read_key(config, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, file);
  read_key(config, "max_position_embeddings", c.max_position_embeddings, file);
  read_key(config, "type_vocab_size", c.type_vocab_size, file);
  read_key(config, "initializer_range", c.initializer_range, file);
  read_key(config, "layer_norm_eps", c.layer_norm_eps, file);
  read_key(config, "pad_token_id", c.pad_token_id, file);
  // cotrain's encoder has absolute learned positions only.
  if (auto it = config.find("position_embedding_type"); it != config.end() && !it->is_null()) {
    if (!it->is_string()) fail("{}: position_embedding_type must be a string, got {}", file, it->dump());
    if (it->get<std::string>() != "absolute")
      fail("{}: position_embedding_type \"{}\" is not supported (only \"absolute\")", file, it->get<std::string>());
  }
  check_ranges(c, file);
  return c;
}

ModelConfig read_hf_config(const std::string& config_json_path) {
  return parse_hf_config(read_whole_file(config_json_path), config_json_path);
}

std::string hf_architecture(const std::string& model_type) {
  if (model_type == "bert") return "BertForMaskedLM";
  if (model_type == "roberta") return "RobertaForMaskedLM";
  fail("model_type \"{}\" cannot be written as a Hugging Face folder (bert or roberta)", model_type);
}

std::string hf_config_json(const ModelConfig& c) {
  json config = {
      {"architectures", {hf_architecture(c.type)}},
      {"model_type", c.type},
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.hidden_size},
      {"num_hidden_layers", c.num_hidden_layers},
      {"num_attention_heads", c.num_attention_heads},
      {"intermediate_size", c.intermediate_size},
      {"hidden_act", c.hidden_act},
      {"hidden_dropout_prob", c.hidden_dropout_prob},
      {"attention_probs_dropout_prob", c.attention_probs_dropout_prob},
      {"max_position_embeddings", c.max_position_embeddings},
      {"type_vocab_size", c.type_vocab_size},
      {"initializer_range", c.initializer_range},
      {"layer_norm_eps", c.layer_norm_eps},
      {"pad_token_id", c.pad_token_id},
      {"position_embedding_type", "absolute"},
      {"torch_dtype", "float32"},
  };
  if (c.type == "roberta") {  // RoBERTa's <s> and </s>, which transformers expects to find
    config["bos_token_id"] = 0;
    config["eos_token_id"] = 2;
  }
  return config.dump(2) + "\n";
}

}  // namespace cotrain::io
