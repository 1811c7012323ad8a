// ViLBERT weights on disk: a folder with config.json (BERT keys plus the reference's
// v_* / bi_* / *_biattention_id keys) and model.safetensors under the reference
// checkpoints' tensor names, plus loading the text stream from a BERT folder.
#pragma once
#include <string>
#include <vector>

#include "cotrain/core/config.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/models/vilbert/vilbert.h"
#include "cotrain/models/weights.h"

namespace cotrain::models {

// Tensors the reference checkpoints hold but the model never uses: the Co-TRM
// output blocks' q_dense1/q_dense2, the tied MLM decoder weight and position_ids
// buffers. Loading skips them.
bool is_unused_vilbert_tensor(const std::string& name);

struct VilbertLoadReport {
  WeightLoadReport weights;
  std::vector<std::string> skipped;  // known unused tensors (is_unused_vilbert_tensor)
};

// load_weights() after dropping the known unused tensors. Strict mode fails naming
// every missing, unexpected or mis-shaped tensor.
VilbertLoadReport load_vilbert_weights(torch::nn::Module& model, const io::TensorMap& tensors,
                                       LoadMode mode = LoadMode::strict, const std::string& source = "weights");

struct VilbertFolder {
  ModelConfig text;
  VilbertConfig vilbert;
  io::TensorMap weights;
  std::string vocab_path;  // dir/vocab.txt when present
};

// config.json -> (ModelConfig, VilbertConfig). model_type may be absent (the
// reference configs have none); "fusion_method" is read as fusion.
void parse_vilbert_config(const std::string& text, const std::string& file, ModelConfig& text_config,
                          VilbertConfig& vilbert);
std::string vilbert_config_json(const ModelConfig& text_config, const VilbertConfig& vilbert);

VilbertFolder read_vilbert_folder(const std::string& dir);
void write_vilbert_folder(const std::string& dir, const ModelConfig& text_config, const VilbertConfig& vilbert,
                          const io::TensorMap& weights);

// Copies a BERT Hugging Face folder's embeddings, encoder layers and MLM head into
// the text stream (same geometry required; the folder's pooler and anything else is
// ignored). Returns the names of the parameters it set.
std::vector<std::string> load_text_stream(VilbertForPretrainingImpl& model, const std::string& bert_dir);

}  // namespace cotrain::models
