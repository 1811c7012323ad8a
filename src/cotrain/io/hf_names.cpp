// Tensor-name spellings of BERT and RoBERTa checkpoints, mapped onto one canonical
// spelling (BertForMaskedLM's) and back. Only names of the encoder and the MLM head
// are recognised; everything else (buffers, NSP head, tied decoder, task heads of
// other architectures) maps to "" so that the folder reader can report it as ignored.
#include <cstring>

#include "cotrain/core/error.h"
#include "cotrain/io/hf_folder.h"

namespace cotrain::io {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Old TensorFlow-converted checkpoints call LayerNorm's parameters gamma and beta.
std::string modern_layer_norm(const std::string& name) {
  if (ends_with(name, "LayerNorm.gamma")) return name.substr(0, name.size() - 5) + "weight";
  if (ends_with(name, "LayerNorm.beta")) return name.substr(0, name.size() - 4) + "bias";
  return name;
}

const char* const kEmbeddingParams[] = {
    "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
    "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
    "pooler.dense.weight", "pooler.dense.bias",
};

// Parameters of one layer, after "encoder.layer.{i}.".
const char* const kLayerParams[] = {
    "attention.self.query.weight",        "attention.self.query.bias",
    "attention.self.key.weight",          "attention.self.key.bias",
    "attention.self.value.weight",        "attention.self.value.bias",
    "attention.output.dense.weight",      "attention.output.dense.bias",
    "attention.output.LayerNorm.weight",  "attention.output.LayerNorm.bias",
    "intermediate.dense.weight",          "intermediate.dense.bias",
    "output.dense.weight",                "output.dense.bias",
    "output.LayerNorm.weight",            "output.LayerNorm.bias",
};

const char* const kMlmHeadParams[] = {
    "cls.predictions.transform.dense.weight",     "cls.predictions.transform.dense.bias",
    "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias",
    "cls.predictions.bias",
};

template <size_t N>
bool one_of(const std::string& s, const char* const (&list)[N]) {
  for (const char* item : list)
    if (s == item) return true;
  return false;
}

// `body` is an encoder name without "bert."/"roberta."; returns the canonical name or "".
std::string canonical_encoder_name(const std::string& body) {
  if (one_of(body, kEmbeddingParams)) return "bert." + body;
  const std::string layer_prefix = "encoder.layer.";
  if (!starts_with(body, layer_prefix.c_str())) return "";
  size_t digits_end = layer_prefix.size();
  while (digits_end < body.size() && body[digits_end] >= '0' && body[digits_end] <= '9') ++digits_end;
  size_t n_digits = digits_end - layer_prefix.size();
  // "01" would alias "1": accept only the plain decimal spelling of an index.
  if (n_digits == 0 || n_digits > 6 || (n_digits > 1 && body[layer_prefix.size()] == '0')) return "";
  if (digits_end >= body.size() || body[digits_end] != '.') return "";
  if (!one_of(body.substr(digits_end + 1), kLayerParams)) return "";
  return "bert." + body;
}

}  // namespace

std::string canonical_weight_name(const std::string& original, const std::string& /*model_type*/) {
  // The spelling is recognised from the name itself, so that a BERT-named file in a
  // folder whose config says roberta (or the reverse) still loads.
  const std::string name = modern_layer_norm(original);
  if (starts_with(name, "bert.")) return canonical_encoder_name(name.substr(5));
  if (starts_with(name, "roberta.")) return canonical_encoder_name(name.substr(8));
  if (starts_with(name, "cls.")) return one_of(name, kMlmHeadParams) ? name : "";
  if (starts_with(name, "lm_head.")) {
    const std::string rest = name.substr(8);
    std::string mapped;
    if (starts_with(rest, "dense.")) mapped = "cls.predictions.transform." + rest;
    else if (starts_with(rest, "layer_norm.")) mapped = "cls.predictions.transform.LayerNorm." + rest.substr(11);
    else if (rest == "bias") mapped = "cls.predictions.bias";
    return one_of(mapped, kMlmHeadParams) ? mapped : "";
  }
  return canonical_encoder_name(name);  // a bare BertModel / RobertaModel
}

std::string hf_weight_name(const std::string& canonical, const std::string& model_type) {
  if (model_type == "bert") return canonical;
  if (model_type != "roberta") fail("model_type \"{}\" has no Hugging Face spelling in cotrain (bert or roberta)", model_type);
  if (starts_with(canonical, "bert.")) return "roberta." + canonical.substr(5);
  const std::string transform = "cls.predictions.transform.";
  if (starts_with(canonical, (transform + "dense.").c_str())) return "lm_head." + canonical.substr(transform.size());
  if (starts_with(canonical, (transform + "LayerNorm.").c_str()))
    return "lm_head.layer_norm." + canonical.substr(transform.size() + 10);
  if (canonical == "cls.predictions.bias") return "lm_head.bias";
  return canonical;  // not a BERT-family name: written as it is
}

}  // namespace cotrain::io
