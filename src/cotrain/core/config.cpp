#include "cotrain/core/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "cotrain/core/error.h"

namespace cotrain {
namespace {

// Converts one YAML node into a typed field, with an error that names the key.
template <class T>
T scalar_as(const YAML::Node& node, const std::string& key, const std::string& origin, const char* type_name) {
  if (!node.IsScalar()) fail("{}: {} must be {}, got a {}", origin, key, type_name, node.IsSequence() ? "list" : "map");
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    fail("{}: {} must be {}, got '{}'", origin, key, type_name, node.Scalar());
  }
}

void assign(int64_t& field, const YAML::Node& node, const std::string& key, const std::string& origin) {
  field = scalar_as<int64_t>(node, key, origin, "an integer");
}
void assign(double& field, const YAML::Node& node, const std::string& key, const std::string& origin) {
  field = scalar_as<double>(node, key, origin, "a number");
}
void assign(bool& field, const YAML::Node& node, const std::string& key, const std::string& origin) {
  field = scalar_as<bool>(node, key, origin, "true or false");
}
void assign(std::string& field, const YAML::Node& node, const std::string& key, const std::string& origin) {
  if (node.IsNull()) {
    field.clear();
    return;
  }
  field = scalar_as<std::string>(node, key, origin, "a string");
}
void assign(std::vector<std::string>& field, const YAML::Node& node, const std::string& key,
            const std::string& origin) {
  field.clear();
  if (node.IsNull()) return;
  if (node.IsScalar()) {  // a single file is accepted where a list is expected
    field.push_back(node.Scalar());
    return;
  }
  if (!node.IsSequence()) fail("{}: {} must be a list of strings", origin, key);
  for (const auto& item : node) field.push_back(scalar_as<std::string>(item, key, origin, "a string"));
}

void assign(std::vector<int64_t>& field, const YAML::Node& node, const std::string& key, const std::string& origin) {
  field.clear();
  if (node.IsNull()) return;
  if (node.IsScalar()) {  // a single number is accepted where a list is expected
    field.push_back(scalar_as<int64_t>(node, key, origin, "an integer"));
    return;
  }
  if (!node.IsSequence()) fail("{}: {} must be a list of integers", origin, key);
  for (const auto& item : node) field.push_back(scalar_as<int64_t>(item, key, origin, "an integer"));
}

void emit(YAML::Emitter& out, const int64_t& v) { out << v; }
void emit(YAML::Emitter& out, const double& v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  std::string text = s.str();
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // keep it a float when read back
  out << text;
}
void emit(YAML::Emitter& out, const bool& v) { out << (v ? "true" : "false"); }
void emit(YAML::Emitter& out, const std::string& v) { out << YAML::DoubleQuoted << v; }
void emit(YAML::Emitter& out, const std::vector<int64_t>& v) {
  out << YAML::Flow << YAML::BeginSeq;
  for (int64_t x : v) out << x;
  out << YAML::EndSeq;
}
void emit(YAML::Emitter& out, const std::vector<std::string>& v) {
  out << YAML::Flow << YAML::BeginSeq;
  for (const auto& s : v) out << YAML::DoubleQuoted << s;
  out << YAML::EndSeq;
}

template <class Section>
std::vector<std::string> section_keys(Section& section) {
  std::vector<std::string> keys;
  section.visit([&](const char* name, auto&, const char*) { keys.push_back(name); });
  return keys;
}

void apply_node(Config& config, const YAML::Node& root, const std::string& origin, ConfigOrigins* origins) {
  if (root.IsNull()) return;
  if (!root.IsMap()) fail("{}: the config must be a map of sections (model:, data:, ...)", origin);
  std::vector<std::string> section_names;
  config.visit_sections([&](const char* name, auto&) { section_names.push_back(name); });
  for (const auto& entry : root) {
    const std::string section_name = entry.first.as<std::string>();
    bool found_section = false;
    config.visit_sections([&](const char* name, auto& section) {
      if (section_name != name) return;
      found_section = true;
      const YAML::Node& body = entry.second;
      if (body.IsNull()) return;
      if (!body.IsMap()) fail("{}: section '{}' must be a map of keys", origin, section_name);
      for (const auto& kv : body) {
        const std::string key = kv.first.as<std::string>();
        const std::string full = section_name + "." + key;
        bool found_key = false;
        section.visit([&](const char* field_name, auto& field, const char*) {
          if (key != field_name) return;
          found_key = true;
          assign(field, kv.second, full, origin);
        });
        if (!found_key) {
          std::string known;
          for (const auto& k : section_keys(section)) known += (known.empty() ? "" : ", ") + k;
          fail("{}: unknown config key '{}' (section '{}' has: {})", origin, full, section_name, known);
        }
        if (origins) (*origins)[full] = origin;
      }
    });
    if (!found_section) {
      std::string known;
      for (const auto& s : section_names) known += (known.empty() ? "" : ", ") + s;
      fail("{}: unknown config section '{}' (known: {})", origin, section_name, known);
    }
  }
}

std::string origin_of(const ConfigOrigins& origins, const std::string& key) {
  auto it = origins.find(key);
  return it == origins.end() ? "default" : it->second;
}

}  // namespace

void apply_config_yaml(Config& config, const std::string& yaml_text, const std::string& origin,
                       ConfigOrigins* origins) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    fail("{}: malformed YAML at line {}, column {}: {}", origin, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  apply_node(config, root, origin, origins);
}

void apply_config_files(Config& config, const std::vector<std::string>& files, ConfigOrigins* origins) {
  for (const auto& path : files) {
    std::ifstream in(path);
    if (!in) fail("{}: cannot open config file", path);
    std::stringstream text;
    text << in.rdbuf();
    apply_config_yaml(config, text.str(), path, origins);
  }
}

void apply_config_overrides(Config& config, const std::vector<std::string>& assignments, ConfigOrigins* origins) {
  for (const auto& assignment : assignments) {
    const auto eq = assignment.find('=');
    const auto dot = assignment.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq)
      fail("--set {}: expected section.key=value, e.g. model.hidden_size=256", assignment);
    const std::string section = assignment.substr(0, dot);
    const std::string key = assignment.substr(dot + 1, eq - dot - 1);
    const std::string value = assignment.substr(eq + 1);
    // Reuse the YAML path so that types and errors are identical to config files.
    YAML::Node value_node;
    try {
      value_node = YAML::Load(value);
    } catch (const YAML::Exception& e) {
      fail("--set {}: malformed value: {}", assignment, e.msg);
    }
    YAML::Node root;
    root[section][key] = value_node;
    apply_node(config, root, "--set " + assignment, origins);
  }
}

void validate_config(const Config& c, const ConfigOrigins& o) {
  auto check = [&](bool ok, const std::string& key, const std::string& why) {
    if (!ok) fail("{}: {} {}", origin_of(o, key), key, why);
  };
  const auto& m = c.model;
  check(m.type == "bert" || m.type == "roberta", "model.type", "must be bert or roberta, got '" + m.type + "'");
  check(m.hidden_size > 0, "model.hidden_size", "must be positive");
  check(m.num_attention_heads > 0, "model.num_attention_heads", "must be positive");
  check(m.hidden_size % std::max<int64_t>(1, m.num_attention_heads) == 0, "model.hidden_size",
        fmt::format("({}) must be divisible by model.num_attention_heads ({})", m.hidden_size, m.num_attention_heads));
  check(m.num_hidden_layers >= 0, "model.num_hidden_layers", "must not be negative");
  check(m.intermediate_size > 0, "model.intermediate_size", "must be positive");
  check(m.vocab_size > 0, "model.vocab_size", "must be positive");
  check(m.hidden_act == "gelu", "model.hidden_act", "must be gelu (the erf GELU of BERT)");
  check(m.hidden_dropout_prob >= 0 && m.hidden_dropout_prob < 1, "model.hidden_dropout_prob", "must be in [0, 1)");
  check(m.attention_probs_dropout_prob >= 0 && m.attention_probs_dropout_prob < 1,
        "model.attention_probs_dropout_prob", "must be in [0, 1)");
  check(m.max_position_embeddings > 0, "model.max_position_embeddings", "must be positive");
  check(m.type_vocab_size > 0, "model.type_vocab_size", "must be positive");
  check(m.layer_norm_eps > 0, "model.layer_norm_eps", "must be positive");
  const auto& d = c.data;
  check(d.max_length >= 3, "data.max_length", "must be at least 3");
  check(d.mask_prob > 0 && d.mask_prob < 1, "data.mask_prob", "must be in (0, 1)");
  check(d.on_bad_record == "fail" || d.on_bad_record == "skip", "data.on_bad_record", "must be fail or skip");
  check(d.loader_threads >= 1, "data.loader_threads", "must be at least 1");
  const auto& op = c.optim;
  check(op.lr > 0, "optim.lr", "must be positive");
  check(op.beta1 >= 0 && op.beta1 < 1, "optim.beta1", "must be in [0, 1)");
  check(op.beta2 >= 0 && op.beta2 < 1, "optim.beta2", "must be in [0, 1)");
  check(op.eps > 0, "optim.eps", "must be positive");
  check(op.weight_decay >= 0, "optim.weight_decay", "must not be negative");
  check(op.clip_norm >= 0, "optim.clip_norm", "must not be negative");
  const auto& s = c.schedule;
  check(s.kind == "linear" || s.kind == "constant", "schedule.kind", "must be linear or constant");
  check(s.warmup_updates >= 0, "schedule.warmup_updates", "must not be negative");
  check(s.warmup_fraction >= 0 && s.warmup_fraction < 1, "schedule.warmup_fraction", "must be in [0, 1)");
  const auto& t = c.trainer;
  check(t.batch_size > 0, "trainer.batch_size", "must be positive");
  check(t.accumulate > 0, "trainer.accumulate", "must be positive");
  check(t.max_updates > 0, "trainer.max_updates", "must be positive");
  check(t.max_minutes >= 0, "trainer.max_minutes", "must not be negative");
  check(t.save_every >= 0, "trainer.save_every", "must not be negative");
  check(t.keep_checkpoints >= 1, "trainer.keep_checkpoints", "must be at least 1");
  check(t.display_every > 0, "trainer.display_every", "must be positive");
  check(t.threads >= 0, "trainer.threads", "must not be negative");
}

std::string dump_config_yaml(const Config& config_in) {
  Config config = config_in;  // visit() is non-const by design (it also assigns)
  YAML::Emitter out;
  out << YAML::BeginMap;
  config.visit_sections([&](const char* section_name, auto& section) {
    out << YAML::Key << section_name << YAML::Value << YAML::BeginMap;
    section.visit([&](const char* name, auto& field, const char*) {
      out << YAML::Key << name << YAML::Value;
      emit(out, field);
    });
    out << YAML::EndMap;
  });
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string describe_config_keys() {
  Config config;
  std::string text;
  config.visit_sections([&](const char* section_name, auto& section) {
    section.visit([&](const char* name, auto&, const char* help) {
      text += fmt::format("  {:<38} {}\n", std::string(section_name) + "." + name, help);
    });
  });
  return text;
}

}  // namespace cotrain
