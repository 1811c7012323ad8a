// A BERT/RoBERTa masked-LM model together with its tokenizer, as kept in a Hugging
// Face folder (config.json, model.safetensors, vocabulary, tokenizer_config.json).
#pragma once
#include <memory>
#include <string>

#include "cotrain/models/bert/bert.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::models {

struct TextModel {
  ModelConfig config;
  BertForMaskedLM model{nullptr};
  std::shared_ptr<text::Tokenizer> tokenizer;
  bool lowercase = true;
};

// Loads a Hugging Face folder (or a cotrain checkpoint, which is one). Tensors the
// model lacks are errors; a missing MLM head or pooler (bare BertModel folders) is
// reported and left at its initial values.
TextModel load_text_model(const std::string& dir);

// Builds a fresh model from a config and a vocabulary (vocab.txt or a BPE folder);
// the vocabulary decides vocab_size and the padding id.
TextModel new_text_model(ModelConfig config, const std::string& vocab_path, bool lowercase);

// Writes a folder that load_text_model and Hugging Face both read.
void save_text_model(const std::string& dir, TextModel& text_model);

}  // namespace cotrain::models
