// What the ViLBERT fine-tuning tasks (vilbert-retrieval, -vqa, -grounding) share:
// images looked up by id or path in a 'cotrain prepare' store or a region TSV, the
// visual rows a fine-tuning model sees (IMG token + regions, no masking), padded
// text/image batches and their JSON form for `cotrain batch` / `cotrain loss`, the
// model built from --init or the config, and a TrainTask base.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "cotrain/core/config.h"
#include "cotrain/data/epoch_order.h"
#include "cotrain/data/regions.h"
#include "cotrain/data/shards.h"
#include "cotrain/models/vilbert/vilbert_heads.h"
#include "cotrain/tasks/registry.h"
#include "cotrain/text/tokenizer.h"
#include "cotrain/train/task.h"

namespace cotrain::tasks {

// Images by key: a 'cotrain prepare' folder / shard, or a bottom-up-attention TSV.
class FtImages {
 public:
  explicit FtImages(const std::string& path);
  int64_t size() const;
  int64_t feature_dim() const;
  // The image whose key is `id_or_path`, else whose key's file stem equals its file
  // stem ("val/123.jpg" finds key "123"); -1 when none.
  int64_t find(const std::string& id_or_path) const;
  data::RegionsView image(int64_t index) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<data::ShardSet> store_;
  std::vector<data::Regions> tsv_;
  std::map<std::string, int64_t> by_key_, by_stem_;
};

// A view of regions held in memory (valid while `regions` lives).
data::RegionsView regions_view(const data::Regions& regions);

// One image as the visual stream takes it: row 0 the IMG token (mean feature of the
// kept regions, location [0,0,1,1,1]), then at most max_regions regions.
struct FtImageRows {
  int64_t count = 0;                       // rows including the IMG token
  std::vector<float> features, locations;  // count x F, count x 5
  std::vector<float> boxes;                // (count - 1) x 4 pixels, for IoU targets
};
FtImageRows image_rows(const data::RegionsView& regions, int64_t max_regions);

// Padded model inputs: [CLS] text [SEP] rows and image rows.
struct FtInputs {
  at::Tensor input_ids, token_type_ids, attention_mask;  // [N, T]
  at::Tensor features, locations, image_mask;            // [N, R, F], [N, R, 5], [N, R]
};
FtInputs collate_ft_inputs(const std::vector<std::vector<int64_t>>& texts, const std::vector<const FtImageRows*>& images,
                           const text::SpecialIds& specials, int64_t feature_dim);
// Word pieces of `text` without specials, cut to max_length - 2.
std::vector<int64_t> encode_ft_text(const text::Tokenizer& tokenizer, const std::string& text, int64_t max_length);

models::VilbertForTasksImpl::Output run_ft(models::VilbertForTasksImpl& model, const FtInputs& in);

// JSON (the format of the pretraining task's batches: integer matrices as rows,
// float tensors as {"shape", "data"}).
void ft_inputs_to_json(const FtInputs& in, nlohmann::json& out);
FtInputs ft_inputs_from_json(const nlohmann::json& j, const ModelConfig& text, const VilbertConfig& v);
nlohmann::json float_tensor_json(const at::Tensor& t);
at::Tensor float_tensor_from_json(const nlohmann::json& j, const std::string& key);

struct FtModel {
  models::VilbertForTasks model{nullptr};
  std::shared_ptr<text::Tokenizer> tokenizer;
};
// --init (a ViLBERT folder: pretrained, or fine-tuned by any of these tasks) or a new
// model from the config and data.vocab with visual inputs `feature_dim` wide.
FtModel build_ft_model(Config& config, const TaskInputs& inputs, const models::VilbertHeadSpec& heads,
                       int64_t feature_dim, const std::string& task);
// The model of a folder for `cotrain loss` (dropout off), heads as its tensors say.
FtModel load_ft_model_for_loss(const std::string& dir, const models::VilbertHeadSpec& heads);

// TrainTask base: parameters (no decay on biases and LayerNorm), folder saving and
// loading, example order.
class VilbertFtTask : public train::TrainTask {
 public:
  VilbertFtTask(std::string name, const Config& config, FtModel built, int64_t examples);
  std::string name() const override { return name_; }
  torch::nn::Module& module() override { return *model_; }
  std::vector<train::NamedParameter> parameters() override;
  nlohmann::json data_state() const override { return order_.state(); }
  void restore_data_state(const nlohmann::json& state) override { order_.restore(state, "examples"); }
  void save_model(const std::string& dir) override;
  void load_model(const std::string& dir) override;
  models::VilbertForTasks& model() { return model_; }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const Config& config() const { return config_; }

 protected:
  std::string name_;
  Config config_;
  models::VilbertForTasks model_;
  std::shared_ptr<text::Tokenizer> tokenizer_;
  data::EpochOrder order_;
};

}  // namespace cotrain::tasks
