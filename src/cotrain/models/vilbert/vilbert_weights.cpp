#include "cotrain/models/vilbert/vilbert_weights.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/io/hf_folder.h"

namespace cotrain::models {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

bool is_unused_vilbert_tensor(const std::string& name) {
  return name.find(".biOutput.q_dense1.") != std::string::npos || name.find(".biOutput.q_dense2.") != std::string::npos ||
         name == "cls.predictions.decoder.weight" || ends_with(name, "position_ids");
}

VilbertLoadReport load_vilbert_weights(torch::nn::Module& model, const io::TensorMap& tensors, LoadMode mode,
                                       const std::string& source) {
  VilbertLoadReport report;
  io::TensorMap used;
  for (const auto& [name, t] : tensors) {
    if (is_unused_vilbert_tensor(name)) report.skipped.push_back(name);
    else used.emplace(name, t);
  }
  report.weights = load_weights(model, used, mode, source);
  return report;
}

void parse_vilbert_config(const std::string& text, const std::string& file, ModelConfig& text_config,
                          VilbertConfig& v) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", file, e.what());
  }
  if (!j.is_object()) fail("{}: must hold a JSON object", file);
  if (!j.contains("model_type")) j["model_type"] = "bert";
  text_config = io::parse_hf_config(j.dump(), file);
  auto get_int = [&](const char* key, int64_t& field) {
    if (!j.contains(key)) return;
    if (!j[key].is_number_integer()) fail("{}: {} must be an integer, got {}", file, key, j[key].dump());
    field = j[key].get<int64_t>();
  };
  auto get_double = [&](const char* key, double& field) {
    if (!j.contains(key)) return;
    if (!j[key].is_number()) fail("{}: {} must be a number, got {}", file, key, j[key].dump());
    field = j[key].get<double>();
  };
  auto get_ids = [&](const char* key, std::vector<int64_t>& field) {
    if (!j.contains(key)) return;
    if (!j[key].is_array()) fail("{}: {} must be a list of integers", file, key);
    field.clear();
    for (const auto& x : j[key]) {
      if (!x.is_number_integer()) fail("{}: {} must be a list of integers, got {}", file, key, x.dump());
      field.push_back(x.get<int64_t>());
    }
  };
  get_int("v_feature_size", v.v_feature_size);
  get_int("v_target_size", v.v_target_size);
  get_int("v_hidden_size", v.v_hidden_size);
  get_int("v_num_hidden_layers", v.v_num_hidden_layers);
  get_int("v_num_attention_heads", v.v_num_attention_heads);
  get_int("v_intermediate_size", v.v_intermediate_size);
  get_double("v_hidden_dropout_prob", v.v_hidden_dropout_prob);
  get_double("v_attention_probs_dropout_prob", v.v_attention_probs_dropout_prob);
  get_int("bi_hidden_size", v.bi_hidden_size);
  get_int("bi_num_attention_heads", v.bi_num_attention_heads);
  get_ids("t_biattention_id", v.t_biattention_id);
  get_ids("v_biattention_id", v.v_biattention_id);
  for (const char* key : {"fusion", "fusion_method", "region_objective"}) {
    if (!j.contains(key)) continue;
    if (!j[key].is_string()) fail("{}: {} must be a string, got {}", file, key, j[key].dump());
    (std::string(key) == "region_objective" ? v.region_objective : v.fusion) = j[key].get<std::string>();
  }
  try {
    check_vilbert_config(text_config, v);
  } catch (const Error& e) {
    fail("{}: {}", file, e.what());
  }
}

std::string vilbert_config_json(const ModelConfig& c, const VilbertConfig& v) {
  nlohmann::json j = nlohmann::json::parse(io::hf_config_json(c));
  j["architectures"] = {"VILBertForVLTasks"};
  j["v_feature_size"] = v.v_feature_size;
  j["v_target_size"] = v.v_target_size;
  j["v_hidden_size"] = v.v_hidden_size;
  j["v_num_hidden_layers"] = v.v_num_hidden_layers;
  j["v_num_attention_heads"] = v.v_num_attention_heads;
  j["v_intermediate_size"] = v.v_intermediate_size;
  j["v_hidden_dropout_prob"] = v.v_hidden_dropout_prob;
  j["v_attention_probs_dropout_prob"] = v.v_attention_probs_dropout_prob;
  j["bi_hidden_size"] = v.bi_hidden_size;
  j["bi_num_attention_heads"] = v.bi_num_attention_heads;
  j["t_biattention_id"] = v.t_biattention_id;
  j["v_biattention_id"] = v.v_biattention_id;
  j["fusion_method"] = v.fusion;
  j["region_objective"] = v.region_objective;
  return j.dump(2) + "\n";
}

VilbertFolder read_vilbert_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string config_path = (fs::path(dir) / "config.json").string();
  const std::string weights_path = (fs::path(dir) / "model.safetensors").string();
  if (!fs::exists(config_path)) fail("{}: no config.json (not a ViLBERT folder)", dir);
  if (!fs::exists(weights_path)) fail("{}: no model.safetensors", dir);
  VilbertFolder folder;
  parse_vilbert_config(read_whole_file(config_path), config_path, folder.text, folder.vilbert);
  io::TensorMap raw = io::load_safetensors(weights_path).tensors;
  for (auto& [name, t] : raw) {
    if (!at::isFloatingType(t.scalar_type()) && !is_unused_vilbert_tensor(name))
      fail("{}: tensor {} is not floating point", weights_path, name);
    folder.weights.emplace(name, at::isFloatingType(t.scalar_type()) ? t.to(at::kFloat) : t);
  }
  const std::string vocab = (fs::path(dir) / "vocab.txt").string();
  if (fs::exists(vocab)) folder.vocab_path = vocab;
  return folder;
}

void write_vilbert_folder(const std::string& dir, const ModelConfig& c, const VilbertConfig& v,
                          const io::TensorMap& weights) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  write_file_atomically((fs::path(dir) / "config.json").string(), vilbert_config_json(c, v));
  io::save_safetensors((fs::path(dir) / "model.safetensors").string(), weights);
}

std::vector<std::string> load_text_stream(VilbertForPretrainingImpl& model, const std::string& bert_dir) {
  io::HfFolder folder = io::read_hf_folder(bert_dir);
  const ModelConfig& f = folder.config;
  const ModelConfig& m = model.text_config;
  if (f.hidden_size != m.hidden_size || f.num_hidden_layers != m.num_hidden_layers ||
      f.num_attention_heads != m.num_attention_heads || f.intermediate_size != m.intermediate_size ||
      f.vocab_size != m.vocab_size)
    fail("{}: BERT geometry (hidden {}, layers {}, heads {}, ffn {}, vocab {}) differs from the text stream's "
         "(hidden {}, layers {}, heads {}, ffn {}, vocab {})",
         bert_dir, f.hidden_size, f.num_hidden_layers, f.num_attention_heads, f.intermediate_size, f.vocab_size,
         m.hidden_size, m.num_hidden_layers, m.num_attention_heads, m.intermediate_size, m.vocab_size);
  io::TensorMap text;
  for (const auto& [name, t] : folder.weights)
    if (starts_with(name, "bert.embeddings.") || starts_with(name, "bert.encoder.layer.") ||
        starts_with(name, "cls.predictions."))
      text.emplace(name, t);
  WeightLoadReport report = load_weights(model, text, LoadMode::partial, bert_dir);
  if (!report.unexpected.empty() || !report.mismatched.empty())
    fail("{}: text stream tensors do not fit: {}", bert_dir, report.describe());
  return report.loaded;
}

}  // namespace cotrain::models
