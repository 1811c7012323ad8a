#include "cotrain/models/unimo/unimo_folder.h"

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/core/log.h"
#include "cotrain/io/hf_folder.h"
#include "cotrain/models/weights.h"

namespace cotrain::models {

namespace {
UnimoGeometry read_geometry(const std::string& path, const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
  if (!j.contains("unimo") || !j["unimo"].is_object())
    fail("{}: no \"unimo\" object (is this a UNIMO folder? a BERT/RoBERTa folder goes to --init)", path);
  const auto& u = j["unimo"];
  UnimoGeometry g;
  auto get_int = [&](const char* key, int64_t& field) {
    if (!u.contains(key) || !u[key].is_number_integer()) fail("{}: unimo.{} must be an integer", path, key);
    field = u[key].get<int64_t>();
  };
  auto get_number = [&](const char* key, double& field) {
    if (!u.contains(key) || !u[key].is_number()) fail("{}: unimo.{} must be a number", path, key);
    field = u[key].get<double>();
  };
  get_int("region_feature_dim", g.region_feature_dim);
  get_int("num_region_classes", g.num_region_classes);
  get_number("temperature_init", g.temperature_init);
  get_number("max_logit_scale", g.max_logit_scale);
  if (g.region_feature_dim <= 0 || g.num_region_classes < 0 || g.temperature_init <= 0 || g.max_logit_scale <= 0)
    fail("{}: unimo sizes must be positive (region_feature_dim {}, num_region_classes {})", path,
         g.region_feature_dim, g.num_region_classes);
  return g;
}
}  // namespace

UnimoFolder load_unimo_folder(const std::string& dir) {
  const std::string config_path = join_path(dir, "config.json");
  if (!is_regular_file(config_path)) fail("{}: no config.json", dir);
  const std::string text = read_whole_file(config_path);
  UnimoFolder f;
  f.config = io::parse_hf_config(text, config_path);
  f.geometry = read_geometry(config_path, text);
  const std::string weights_path = join_path(dir, "model.safetensors");
  if (!is_regular_file(weights_path)) fail("{}: no model.safetensors", dir);
  f.model = UnimoModel(f.config, f.geometry);
  load_weights(*f.model, io::load_safetensors(weights_path).tensors, LoadMode::strict, weights_path);
  const std::string tok_config = join_path(dir, "tokenizer_config.json");
  if (is_regular_file(tok_config)) {
    try {
      auto t = nlohmann::json::parse(read_whole_file(tok_config));
      if (t.contains("do_lower_case") && t["do_lower_case"].is_boolean()) f.lowercase = t["do_lower_case"].get<bool>();
    } catch (const nlohmann::json::exception& e) {
      fail("{}: not valid JSON: {}", tok_config, e.what());
    }
  }
  if (is_regular_file(join_path(dir, "vocab.txt")))
    f.tokenizer = text::load_tokenizer(join_path(dir, "vocab.txt"), f.lowercase);
  else if (is_regular_file(join_path(dir, "vocab.json")))
    f.tokenizer = text::load_tokenizer(dir, f.lowercase);
  return f;
}

void save_unimo_folder(const std::string& dir, UnimoFolder& f) {
  ensure_directory(dir);
  nlohmann::json config = nlohmann::json::parse(io::hf_config_json(f.config));
  config["architectures"] = {"UnimoModel"};
  config["unimo"] = {{"region_feature_dim", f.geometry.region_feature_dim},
                     {"num_region_classes", f.geometry.num_region_classes},
                     {"temperature_init", f.geometry.temperature_init},
                     {"max_logit_scale", f.geometry.max_logit_scale}};
  write_file_atomically(join_path(dir, "config.json"), config.dump(2) + "\n");
  io::save_safetensors(join_path(dir, "model.safetensors"), weights_of(*f.model), {{"format", "pt"}});
  if (f.tokenizer) {
    f.tokenizer->save(dir);
    nlohmann::json tc = {{"do_lower_case", f.lowercase},
                         {"tokenizer_class", f.config.type == "roberta" ? "RobertaTokenizer" : "BertTokenizer"}};
    write_file_atomically(join_path(dir, "tokenizer_config.json"), tc.dump(2) + "\n");
  }
}

size_t init_unimo_from_text_folder(UnimoModelImpl& model, const std::string& hf_dir) {
  io::HfFolder folder = io::read_hf_folder(hf_dir);
  WeightLoadReport report = load_weights(model, folder.weights, LoadMode::partial, hf_dir);
  if (!report.mismatched.empty())
    fail("{}: tensor '{}' does not fit the UNIMO model's shape", hf_dir, report.mismatched.front().name);
  for (const auto& name : report.missing)
    if (name.rfind("bert.", 0) == 0) fail("{}: the folder lacks encoder tensor '{}'", hf_dir, name);
  log::info("{}: {} text tensors loaded; {} UNIMO tensors start fresh", hf_dir, report.loaded.size(),
            report.missing.size());
  return report.loaded.size();
}

}  // namespace cotrain::models
