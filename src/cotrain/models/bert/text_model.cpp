#include "cotrain/models/bert/text_model.h"

#include <nlohmann/json.hpp>

#include <fmt/ranges.h>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/core/log.h"
#include "cotrain/io/hf_folder.h"
#include "cotrain/models/weights.h"

namespace cotrain::models {

TextModel load_text_model(const std::string& dir) {
  io::HfFolder folder = io::read_hf_folder(dir);
  if (folder.vocab_path.empty()) fail("{}: no vocabulary (vocab.txt, or vocab.json + merges.txt)", dir);
  TextModel tm;
  tm.config = folder.config;
  tm.lowercase = folder.lowercase;
  tm.tokenizer = text::load_tokenizer(folder.vocab_path, folder.lowercase);
  if (tm.tokenizer->vocab_size() > tm.config.vocab_size)
    fail("{}: the vocabulary has {} tokens but config.json says vocab_size {}", dir, tm.tokenizer->vocab_size(),
         tm.config.vocab_size);
  tm.model = BertForMaskedLM(tm.config);
  WeightLoadReport report = load_weights(*tm.model, folder.weights, LoadMode::partial, dir);
  // A bare encoder folder has no MLM head and perhaps no pooler: those start fresh.
  std::vector<std::string> fresh;
  for (const auto& name : report.missing) {
    if (name.rfind("cls.", 0) == 0 || name.rfind("bert.pooler.", 0) == 0)
      fresh.push_back(name);
    else
      fail("{}/model.safetensors: missing tensor '{}'", dir, name);
  }
  if (!report.mismatched.empty()) {
    const auto& m = report.mismatched.front();
    fail("{}/model.safetensors: tensor '{}' has shape [{}] but the model needs [{}]", dir, m.name,
         fmt::join(m.found, ", "), fmt::join(m.expected, ", "));
  }
  if (!report.unexpected.empty())
    log::warn("{}: ignoring {} tensors the model does not use (first: {})", dir, report.unexpected.size(),
              report.unexpected.front());
  if (!fresh.empty()) log::info("{}: {} head/pooler tensors not in the folder start from random values", dir, fresh.size());
  return tm;
}

TextModel new_text_model(ModelConfig config, const std::string& vocab_path, bool lowercase) {
  TextModel tm;
  tm.tokenizer = text::load_tokenizer(vocab_path, lowercase);
  tm.lowercase = lowercase;
  config.vocab_size = tm.tokenizer->vocab_size();
  config.pad_token_id = tm.tokenizer->specials().pad;
  tm.config = config;
  tm.model = BertForMaskedLM(config);
  return tm;
}

void save_text_model(const std::string& dir, TextModel& tm) {
  ensure_directory(dir);
  io::write_hf_folder(dir, tm.config, weights_of(*tm.model));
  tm.tokenizer->save(dir);
  nlohmann::json tokenizer_config = {{"do_lower_case", tm.lowercase},
                                     {"model_max_length", tm.config.max_position_embeddings -
                                                              (tm.config.type == "roberta" ? 2 : 0)}};
  tokenizer_config["tokenizer_class"] = tm.config.type == "roberta" ? "RobertaTokenizer" : "BertTokenizer";
  write_file_atomically(join_path(dir, "tokenizer_config.json"), tokenizer_config.dump(2) + "\n");
}

}  // namespace cotrain::models
