// UNIMO model folders: what `cotrain pretrain --task unimo` saves and `cotrain loss
// --task unimo` / the PyTorch twin read.
//   config.json        the Hugging Face BERT/RoBERTa keys of the shared Transformer,
//                      plus "unimo": {"region_feature_dim", "num_region_classes",
//                      "temperature_init", "max_logit_scale"}
//   model.safetensors  every parameter under its named_parameters() name (unimo_model.h)
//   vocabulary         vocab.txt or vocab.json + merges.txt, tokenizer_config.json
#pragma once
#include <memory>
#include <string>

#include "cotrain/models/unimo/unimo_model.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::models {

struct UnimoFolder {
  ModelConfig config;
  UnimoGeometry geometry;
  UnimoModel model{nullptr};
  std::shared_ptr<text::Tokenizer> tokenizer;  // null when the folder has no vocabulary
  bool lowercase = true;
};

// Strict: a missing, unexpected or mis-shaped tensor is an Error naming the file.
UnimoFolder load_unimo_folder(const std::string& dir);
void save_unimo_folder(const std::string& dir, UnimoFolder& folder);

// Copies the text part (embeddings, encoder, MLM head) of a BERT/RoBERTa Hugging Face
// folder into `model`; UNIMO's own parts keep their initial values. Returns how many
// tensors were loaded.
size_t init_unimo_from_text_folder(UnimoModelImpl& model, const std::string& hf_dir);

}  // namespace cotrain::models
