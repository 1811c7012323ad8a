// Hugging Face model folders: config.json, name spellings, vocabularies, errors.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/io/hf_folder.h"
#include "support/support.h"

namespace cotrain::io {
namespace {

ModelConfig tiny_config(const std::string& type) {
  ModelConfig c;
  c.type = type;
  c.vocab_size = 11;
  c.hidden_size = 4;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 8;
  c.max_position_embeddings = type == "roberta" ? 10 : 8;
  c.type_vocab_size = type == "roberta" ? 1 : 2;
  c.pad_token_id = type == "roberta" ? 1 : 0;
  c.layer_norm_eps = type == "roberta" ? 1e-5 : 1e-12;
  c.hidden_dropout_prob = 0.25;
  c.initializer_range = 0.125;
  return c;
}

// Every canonical weight of a tiny model, random.
TensorMap tiny_weights(const ModelConfig& c) {
  at::manual_seed(11);
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  TensorMap w;
  w["bert.embeddings.word_embeddings.weight"] = at::randn({c.vocab_size, H});
  w["bert.embeddings.position_embeddings.weight"] = at::randn({c.max_position_embeddings, H});
  w["bert.embeddings.token_type_embeddings.weight"] = at::randn({c.type_vocab_size, H});
  w["bert.embeddings.LayerNorm.weight"] = at::randn({H});
  w["bert.embeddings.LayerNorm.bias"] = at::randn({H});
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "bert.encoder.layer." + std::to_string(l) + ".";
    for (const char* m : {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
      w[p + m + ".weight"] = at::randn({H, H});
      w[p + m + ".bias"] = at::randn({H});
    }
    w[p + "intermediate.dense.weight"] = at::randn({I, H});
    w[p + "intermediate.dense.bias"] = at::randn({I});
    w[p + "output.dense.weight"] = at::randn({H, I});
    w[p + "output.dense.bias"] = at::randn({H});
    for (const char* ln : {"attention.output.LayerNorm", "output.LayerNorm"}) {
      w[p + ln + ".weight"] = at::randn({H});
      w[p + ln + ".bias"] = at::randn({H});
    }
  }
  w["bert.pooler.dense.weight"] = at::randn({H, H});
  w["bert.pooler.dense.bias"] = at::randn({H});
  w["cls.predictions.transform.dense.weight"] = at::randn({H, H});
  w["cls.predictions.transform.dense.bias"] = at::randn({H});
  w["cls.predictions.transform.LayerNorm.weight"] = at::randn({H});
  w["cls.predictions.transform.LayerNorm.bias"] = at::randn({H});
  w["cls.predictions.bias"] = at::randn({c.vocab_size});
  return w;
}

void expect_same_weights(const TensorMap& want, const TensorMap& got) {
  ASSERT_EQ(want.size(), got.size());
  for (const auto& [name, t] : want) {
    ASSERT_TRUE(got.count(name)) << name;
    EXPECT_EQ(got.at(name).scalar_type(), at::kFloat) << name;
    EXPECT_TRUE(at::equal(got.at(name), t.to(at::kFloat))) << name;
  }
}

void expect_same_config(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.num_hidden_layers, b.num_hidden_layers);
  EXPECT_EQ(a.num_attention_heads, b.num_attention_heads);
  EXPECT_EQ(a.intermediate_size, b.intermediate_size);
  EXPECT_EQ(a.hidden_act, b.hidden_act);
  EXPECT_EQ(a.hidden_dropout_prob, b.hidden_dropout_prob);
  EXPECT_EQ(a.attention_probs_dropout_prob, b.attention_probs_dropout_prob);
  EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
  EXPECT_EQ(a.type_vocab_size, b.type_vocab_size);
  EXPECT_EQ(a.initializer_range, b.initializer_range);
  EXPECT_EQ(a.layer_norm_eps, b.layer_norm_eps);
  EXPECT_EQ(a.pad_token_id, b.pad_token_id);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> names_in(const std::string& path) {
  std::vector<std::string> names;
  for (const auto& [name, t] : load_safetensors(path).tensors) names.push_back(name);
  return names;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(HfFolder, BertWriteThenRead) {
  const std::string dir = testing::scratch_dir("hf-bert") + "/model";
  ModelConfig config = tiny_config("bert");
  TensorMap weights = tiny_weights(config);
  TensorMap with_decoder = weights;
  with_decoder["cls.predictions.decoder.weight"] = weights["bert.embeddings.word_embeddings.weight"];
  write_hf_folder(dir, config, with_decoder);

  auto names = names_in(dir + "/model.safetensors");
  EXPECT_EQ(names.size(), weights.size());  // tied decoder omitted
  EXPECT_TRUE(contains(names, "bert.encoder.layer.1.output.LayerNorm.weight"));
  EXPECT_TRUE(contains(names, "cls.predictions.bias"));
  EXPECT_EQ(load_safetensors(dir + "/model.safetensors").metadata.at("format"), "pt");
  auto json = nlohmann::json::parse(testing::read_file(dir + "/config.json"));
  EXPECT_EQ(json["architectures"], nlohmann::json::array({"BertForMaskedLM"}));
  EXPECT_EQ(json["model_type"], "bert");
  EXPECT_EQ(json["layer_norm_eps"].get<double>(), 1e-12);

  HfFolder back = read_hf_folder(dir);
  expect_same_config(config, back.config);
  expect_same_weights(weights, back.weights);
  EXPECT_TRUE(back.ignored.empty());
  EXPECT_EQ(back.vocab_path, "");
  EXPECT_TRUE(back.lowercase);
}

TEST(HfFolder, RobertaWriteThenReadUsesRobertaSpelling) {
  const std::string dir = testing::scratch_dir("hf-roberta");
  ModelConfig config = tiny_config("roberta");
  TensorMap weights = tiny_weights(config);
  write_hf_folder(dir, config, weights);
  auto names = names_in(dir + "/model.safetensors");
  for (const auto& n : names) EXPECT_TRUE(n.rfind("roberta.", 0) == 0 || n.rfind("lm_head.", 0) == 0) << n;
  for (const char* n : {"roberta.embeddings.word_embeddings.weight", "lm_head.dense.weight", "lm_head.layer_norm.bias",
                        "lm_head.bias", "roberta.encoder.layer.0.attention.self.query.weight"})
    EXPECT_TRUE(contains(names, n)) << n;
  auto json = nlohmann::json::parse(testing::read_file(dir + "/config.json"));
  EXPECT_EQ(json["architectures"], nlohmann::json::array({"RobertaForMaskedLM"}));
  EXPECT_EQ(json["pad_token_id"], 1);

  testing::write_file(dir + "/vocab.json", "{}");
  testing::write_file(dir + "/merges.txt", "#version: 0.2\n");
  HfFolder back = read_hf_folder(dir);
  expect_same_config(config, back.config);
  expect_same_weights(weights, back.weights);
  EXPECT_EQ(back.vocab_path, dir);
  EXPECT_FALSE(back.lowercase);  // RoBERTa's BPE is cased
}

// A folder written by hand in an old spelling: bare BertModel names, gamma/beta,
// half precision, the position_ids buffer and an NSP head.
TEST(HfFolder, BareLegacyNamesAndIgnoredTensors) {
  const std::string dir = testing::scratch_dir("hf-legacy");
  ModelConfig config = tiny_config("bert");
  TensorMap canonical = tiny_weights(config);
  TensorMap file;
  for (const auto& [name, t] : canonical) {
    std::string n = name.rfind("bert.", 0) == 0 ? name.substr(5) : name;  // bare
    if (n.size() > 17 && n.compare(n.size() - 17, 17, "LayerNorm.weight") == 0) {}
    auto ends = [&](const std::string& s) { return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
    if (ends("LayerNorm.weight")) n = n.substr(0, n.size() - 6) + "gamma";
    if (ends("LayerNorm.bias")) n = n.substr(0, n.size() - 4) + "beta";
    file[n] = t.to(at::kHalf);
  }
  file["embeddings.position_ids"] = at::arange(config.max_position_embeddings, at::kLong).unsqueeze(0);
  file["cls.seq_relationship.weight"] = at::randn({2, 4});
  file["cls.predictions.decoder.weight"] = canonical["bert.embeddings.word_embeddings.weight"];
  ASSERT_TRUE(file.count("embeddings.LayerNorm.gamma"));
  ASSERT_TRUE(file.count("encoder.layer.1.attention.output.LayerNorm.beta"));
  save_safetensors(dir + "/model.safetensors", file);
  testing::write_file(dir + "/config.json", hf_config_json(config));
  testing::write_file(dir + "/vocab.txt", "[PAD]\n[UNK]\n");
  testing::write_file(dir + "/tokenizer_config.json", R"({"do_lower_case": false, "model_max_length": 512})");

  HfFolder back = read_hf_folder(dir);
  TensorMap want;
  for (const auto& [name, t] : canonical) want[name] = t.to(at::kHalf).to(at::kFloat);
  expect_same_weights(want, back.weights);
  std::sort(back.ignored.begin(), back.ignored.end());
  EXPECT_EQ(back.ignored, (std::vector<std::string>{"cls.predictions.decoder.weight", "cls.seq_relationship.weight",
                                                    "embeddings.position_ids"}));
  EXPECT_EQ(back.vocab_path, dir + "/vocab.txt");
  EXPECT_FALSE(back.lowercase);
}

TEST(HfFolder, RobertaHeadNamesAndBiasOnlyUnderTiedName) {
  const std::string dir = testing::scratch_dir("hf-roberta-tied");
  ModelConfig config = tiny_config("roberta");
  TensorMap canonical = tiny_weights(config);
  TensorMap file;
  for (const auto& [name, t] : canonical) file[hf_weight_name(name, "roberta")] = t;
  // This writer kept the output bias only under the tied decoder's name.
  file["lm_head.decoder.bias"] = file["lm_head.bias"];
  file.erase("lm_head.bias");
  file["lm_head.decoder.weight"] = canonical["bert.embeddings.word_embeddings.weight"];
  save_safetensors(dir + "/model.safetensors", file);
  testing::write_file(dir + "/config.json", hf_config_json(config));
  HfFolder back = read_hf_folder(dir);
  expect_same_weights(canonical, back.weights);
  EXPECT_EQ(back.ignored, std::vector<std::string>{"lm_head.decoder.weight"});
}

TEST(HfFolder, ShardedFolder) {
  const std::string dir = testing::scratch_dir("hf-sharded");
  ModelConfig config = tiny_config("bert");
  TensorMap canonical = tiny_weights(config);
  TensorMap a, b;
  nlohmann::json map;
  bool first = true;
  for (const auto& [name, t] : canonical) {
    (first ? a : b)[name] = t;
    map[name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    first = !first;
  }
  save_safetensors(dir + "/model-00001-of-00002.safetensors", a);
  save_safetensors(dir + "/model-00002-of-00002.safetensors", b);
  testing::write_file(dir + "/model.safetensors.index.json", nlohmann::json{{"metadata", {}}, {"weight_map", map}}.dump());
  testing::write_file(dir + "/config.json", hf_config_json(config));
  expect_same_weights(canonical, read_hf_folder(dir).weights);
  // An index that sends a tensor to the wrong shard is an error naming both.
  map["bert.pooler.dense.bias"] = map["bert.pooler.dense.bias"] == "model-00001-of-00002.safetensors"
                                      ? "model-00002-of-00002.safetensors"
                                      : "model-00001-of-00002.safetensors";
  testing::write_file(dir + "/model.safetensors.index.json", nlohmann::json{{"weight_map", map}}.dump());
  std::string msg = error_of([&] { read_hf_folder(dir); });
  EXPECT_NE(msg.find("model.safetensors.index.json: weight_map puts bert.pooler.dense.bias in model-0000"),
            std::string::npos) << msg;
}

TEST(HfFolder, ConfigDefaultsAreHuggingFaces) {
  const std::string dir = testing::scratch_dir("hf-config-defaults");
  testing::write_file(dir + "/bert.json", R"({"model_type": "bert", "architectures": ["BertModel"], "unknown": [1]})");
  ModelConfig bert = read_hf_config(dir + "/bert.json");
  EXPECT_EQ(bert.vocab_size, 30522);
  EXPECT_EQ(bert.hidden_size, 768);
  EXPECT_EQ(bert.num_hidden_layers, 12);
  EXPECT_EQ(bert.intermediate_size, 3072);
  EXPECT_EQ(bert.max_position_embeddings, 512);
  EXPECT_EQ(bert.type_vocab_size, 2);
  EXPECT_EQ(bert.layer_norm_eps, 1e-12);
  EXPECT_EQ(bert.pad_token_id, 0);
  EXPECT_EQ(bert.hidden_act, "gelu");
  testing::write_file(dir + "/roberta.json",
                      R"({"model_type": "roberta", "max_position_embeddings": 514, "type_vocab_size": 1,
                          "layer_norm_eps": 1e-05, "hidden_dropout_prob": 0, "pad_token_id": null})");
  ModelConfig roberta = read_hf_config(dir + "/roberta.json");
  EXPECT_EQ(roberta.type, "roberta");
  EXPECT_EQ(roberta.pad_token_id, 1);
  EXPECT_EQ(roberta.max_position_embeddings, 514);
  EXPECT_EQ(roberta.type_vocab_size, 1);
  EXPECT_EQ(roberta.layer_norm_eps, 1e-5);
  EXPECT_EQ(roberta.hidden_dropout_prob, 0.0);
}

TEST(HfFolder, ConfigErrorsNameFileAndKey) {
  const std::string dir = testing::scratch_dir("hf-config-errors");
  const std::string path = dir + "/config.json";
  auto error_for = [&](const std::string& text) {
    testing::write_file(path, text);
    return error_of([&] { read_hf_config(path); });
  };
  EXPECT_EQ(error_for(R"({"hidden_size": 8})"), path + ": model_type is missing (cotrain reads \"bert\" and \"roberta\" folders)");
  EXPECT_EQ(error_for(R"({"model_type": "gpt2"})"), path + ": model_type \"gpt2\" is not supported (cotrain reads \"bert\" and \"roberta\")");
  EXPECT_EQ(error_for(R"({"model_type": "bert", "hidden_size": "768"})"), path + ": hidden_size must be an integer, got \"768\"");
  EXPECT_EQ(error_for(R"({"model_type": "bert", "num_hidden_layers": 2.5})"), path + ": num_hidden_layers must be an integer, got 2.5");
  EXPECT_EQ(error_for(R"({"model_type": "bert", "layer_norm_eps": "1e-12"})"), path + ": layer_norm_eps must be a number, got \"1e-12\"");
  EXPECT_EQ(error_for(R"({"model_type": "bert", "hidden_act": 1})"), path + ": hidden_act must be a string, got 1");
  EXPECT_EQ(error_for(R"({"model_type": "bert", "hidden_size": 10, "num_attention_heads": 4})"),
            path + ": hidden_size 10 is not a multiple of num_attention_heads 4");
  EXPECT_EQ(error_for(R"({"model_type": "bert", "vocab_size": 0})"), path + ": vocab_size must be positive, got 0");
  EXPECT_EQ(error_for(R"({"model_type": "bert", "position_embedding_type": "relative_key"})"),
            path + ": position_embedding_type \"relative_key\" is not supported (only \"absolute\")");
  EXPECT_NE(error_for(R"({"model_type": "bert",})").find(path + ": not valid JSON"), std::string::npos);
  EXPECT_EQ(error_for("[]"), path + ": must hold a JSON object, got array");
  EXPECT_EQ(error_of([&] { read_hf_config(dir + "/none.json"); }), dir + "/none.json: no such file");
}

TEST(HfFolder, FolderErrors) {
  const std::string root = testing::scratch_dir("hf-folder-errors");
  EXPECT_EQ(error_of([&] { read_hf_folder(root + "/absent"); }), root + "/absent: no such folder");
  testing::write_file(root + "/file", "x");
  EXPECT_EQ(error_of([&] { read_hf_folder(root + "/file"); }), root + "/file: expected a Hugging Face model folder, got a file");
  EXPECT_NE(error_of([&] { read_hf_folder(root); }).find(root + ": no config.json"), std::string::npos);

  const std::string pt = root + "/pt";
  testing::write_file(pt + "/config.json", R"({"model_type": "bert"})");
  testing::write_file(pt + "/pytorch_model.bin", "PK pickle");
  std::string msg = error_of([&] { read_hf_folder(pt); });
  for (const char* part : {"has pytorch_model.bin but no model.safetensors", "from safetensors.torch import save_file",
                           "safe_serialization=True", "/pt/model.safetensors"})
    EXPECT_NE(msg.find(part), std::string::npos) << part << " not in " << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line";

  const std::string tf = root + "/tf";
  testing::write_file(tf + "/config.json", R"({"model_type": "bert"})");
  testing::write_file(tf + "/tf_model.h5", "HDF");
  msg = error_of([&] { read_hf_folder(tf); });
  EXPECT_NE(msg.find("has tf_model.h5 but no model.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("from_tf=True"), std::string::npos) << msg;

  const std::string none = root + "/none";
  testing::write_file(none + "/config.json", R"({"model_type": "bert"})");
  EXPECT_NE(error_of([&] { read_hf_folder(none); }).find(none + ": no model.safetensors"), std::string::npos);

  const std::string corrupt = root + "/corrupt";
  testing::write_file(corrupt + "/config.json", R"({"model_type": "bert"})");
  testing::write_file(corrupt + "/model.safetensors", std::string("\x10\0\0\0\0\0\0\0{\"a\":", 13));
  EXPECT_NE(error_of([&] { read_hf_folder(corrupt); }).find(corrupt + "/model.safetensors: header length 16 reaches past"),
            std::string::npos);
}

TEST(HfFolder, WeightErrors) {
  const std::string root = testing::scratch_dir("hf-weight-errors");
  ModelConfig config = tiny_config("bert");
  auto folder_with = [&](const std::string& name, const TensorMap& tensors) {
    const std::string dir = root + "/" + name;
    testing::write_file(dir + "/config.json", hf_config_json(config));
    save_safetensors(dir + "/model.safetensors", tensors);
    return dir;
  };
  std::string dir = folder_with("int", {{"bert.pooler.dense.bias", at::zeros({4}, at::kLong)}});
  EXPECT_EQ(error_of([&] { read_hf_folder(dir); }),
            dir + "/model.safetensors: tensor bert.pooler.dense.bias: dtype Long is not floating point, expected weights");
  dir = folder_with("twice", {{"bert.pooler.dense.bias", at::zeros({4})}, {"pooler.dense.bias", at::zeros({4})}});
  EXPECT_EQ(error_of([&] { read_hf_folder(dir); }),
            dir + "/model.safetensors: tensors bert.pooler.dense.bias and pooler.dense.bias are two spellings of the same "
                  "weight bert.pooler.dense.bias");
  dir = folder_with("gamma-and-weight", {{"embeddings.LayerNorm.gamma", at::ones({4})},
                                          {"embeddings.LayerNorm.weight", at::ones({4})}});
  EXPECT_NE(error_of([&] { read_hf_folder(dir); }).find("two spellings"), std::string::npos);
  EXPECT_THROW(write_hf_folder(root + "/gpt", [] { ModelConfig c; c.type = "gpt2"; return c; }(), {}), Error);
}

}  // namespace
}  // namespace cotrain::io
