#include "cotrain/tasks/vilbert_ft_common.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>

#include <fmt/ranges.h>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/data/regions_tsv.h"
#include "cotrain/models/vilbert/vilbert_weights.h"
#include "cotrain/models/weights.h"
#include "cotrain/tasks/mlm_task.h"
#include "cotrain/train/adamw.h"

namespace cotrain::tasks {

namespace fs = std::filesystem;

namespace {
std::string stem_of(const std::string& s) { return fs::path(s).stem().string(); }

}  // namespace

data::RegionsView regions_view(const data::Regions& r) {
  data::RegionsView v;
  v.image_key = r.image_id;
  v.width = r.width, v.height = r.height, v.num_boxes = r.num_boxes;
  v.feature_dim = r.feature_dim, v.num_classes = r.num_classes;
  v.boxes = r.boxes.data(), v.features = r.features.data();
  v.class_probs = r.class_probs.empty() ? nullptr : r.class_probs.data();
  return v;
}

// ---------------------------------------------------------------- images

FtImages::FtImages(const std::string& path) : path_(path) {
  if (path.empty()) fail("no images: set vilbert_ft.images to a 'cotrain prepare' folder or a region TSV file");
  if (!fs::exists(path)) fail("{}: no such file or folder", path);
  const bool is_store = fs::is_directory(path) || fs::path(path).extension() == ".bin";
  if (is_store) {
    store_ = std::make_unique<data::ShardSet>(path);
  } else {
    tsv_ = data::read_regions_tsv(path);
  }
  for (int64_t i = 0; i < size(); ++i) {
    const std::string key(image(i).image_key);
    by_key_.emplace(key, i);  // the first image of a repeated key wins
    by_stem_.emplace(stem_of(key), i);
  }
  if (size() == 0) fail("{}: no images", path);
}

int64_t FtImages::size() const { return store_ ? store_->num_images() : static_cast<int64_t>(tsv_.size()); }

int64_t FtImages::feature_dim() const { return store_ ? store_->feature_dim() : tsv_.front().feature_dim; }

int64_t FtImages::find(const std::string& id_or_path) const {
  if (auto it = by_key_.find(id_or_path); it != by_key_.end()) return it->second;
  if (auto it = by_stem_.find(stem_of(id_or_path)); it != by_stem_.end()) return it->second;
  return -1;
}

data::RegionsView FtImages::image(int64_t index) const {
  if (index < 0 || index >= size()) fail("{}: image {} out of range", path_, index);
  return store_ ? store_->image(index) : regions_view(tsv_[static_cast<size_t>(index)]);
}

FtImageRows image_rows(const data::RegionsView& r, int64_t max_regions) {
  const int64_t F = r.feature_dim;
  const int64_t n = std::min<int64_t>(r.num_boxes, max_regions);
  if (n <= 0) fail("image {}: no regions", r.image_key);
  FtImageRows rows;
  rows.count = n + 1;
  rows.features.assign(static_cast<size_t>(rows.count * F), 0.f);
  rows.locations.assign(static_cast<size_t>(rows.count * 5), 0.f);
  rows.boxes.assign(r.boxes, r.boxes + 4 * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t d = 0; d < F; ++d) rows.features[static_cast<size_t>(d)] += r.features[i * F + d] / static_cast<float>(n);
  const float whole[5] = {0.f, 0.f, 1.f, 1.f, 1.f};
  std::copy(whole, whole + 5, rows.locations.begin());
  for (int64_t i = 0; i < n; ++i) {
    const auto row = static_cast<std::ptrdiff_t>(i + 1);
    std::copy(r.features + i * F, r.features + (i + 1) * F, rows.features.begin() + row * F);
    auto loc = data::encode_box(r.boxes + 4 * i, r.width, r.height);
    std::copy(loc.begin(), loc.end(), rows.locations.begin() + row * 5);
  }
  return rows;
}

// ---------------------------------------------------------------- batches

std::vector<int64_t> encode_ft_text(const text::Tokenizer& tokenizer, const std::string& text, int64_t max_length) {
  std::vector<int64_t> ids = tokenizer.encode(text);
  const auto limit = static_cast<size_t>(std::max<int64_t>(max_length - 2, 0));
  if (ids.size() > limit) ids.resize(limit);
  return ids;
}

FtInputs collate_ft_inputs(const std::vector<std::vector<int64_t>>& texts, const std::vector<const FtImageRows*>& images,
                           const text::SpecialIds& sp, int64_t F) {
  const int64_t N = static_cast<int64_t>(texts.size());
  if (static_cast<int64_t>(images.size()) != N) fail("collate: {} texts but {} images", N, images.size());
  int64_t T = 0, R = 0;
  for (const auto& t : texts) T = std::max<int64_t>(T, static_cast<int64_t>(t.size()) + 2);
  for (const auto* im : images) R = std::max(R, im->count);
  FtInputs in;
  in.input_ids = at::full({N, T}, sp.pad, at::kLong);
  in.attention_mask = at::zeros({N, T}, at::kLong);
  in.token_type_ids = at::zeros({N, T}, at::kLong);
  in.features = at::zeros({N, R, F});
  in.locations = at::zeros({N, R, 5});
  in.image_mask = at::zeros({N, R}, at::kLong);
  auto ids = in.input_ids.accessor<int64_t, 2>();
  auto att = in.attention_mask.accessor<int64_t, 2>();
  for (int64_t b = 0; b < N; ++b) {
    const auto& t = texts[static_cast<size_t>(b)];
    ids[b][0] = sp.cls;
    for (size_t i = 0; i < t.size(); ++i) ids[b][static_cast<int64_t>(i) + 1] = t[i];
    ids[b][static_cast<int64_t>(t.size()) + 1] = sp.sep;
    for (int64_t i = 0; i < static_cast<int64_t>(t.size()) + 2; ++i) att[b][i] = 1;
    const FtImageRows& im = *images[static_cast<size_t>(b)];
    if (static_cast<int64_t>(im.features.size()) != im.count * F)
      fail("collate: image rows are {} wide, the model takes {}", im.features.size() / std::max<int64_t>(im.count, 1), F);
    in.features[b].narrow(0, 0, im.count).copy_(at::from_blob(const_cast<float*>(im.features.data()), {im.count, F}));
    in.locations[b].narrow(0, 0, im.count).copy_(at::from_blob(const_cast<float*>(im.locations.data()), {im.count, 5}));
    in.image_mask[b].narrow(0, 0, im.count).fill_(1);
  }
  return in;
}

models::VilbertForTasksImpl::Output run_ft(models::VilbertForTasksImpl& model, const FtInputs& in) {
  return model.forward(in.input_ids, in.token_type_ids, in.attention_mask, in.features, in.locations, in.image_mask);
}

// ---------------------------------------------------------------- JSON

nlohmann::json float_tensor_json(const at::Tensor& t) {
  at::Tensor c = t.to(at::kDouble).contiguous();
  return nlohmann::json{{"shape", c.sizes().vec()},
                        {"data", std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel())}};
}

at::Tensor float_tensor_from_json(const nlohmann::json& j, const std::string& key) {
  if (!j.contains(key) || !j[key].is_object() || !j[key].contains("shape") || !j[key].contains("data") ||
      !j[key]["shape"].is_array())
    fail("batch: '{}' must be {{\"shape\": [...], \"data\": [...]}}", key);
  std::vector<int64_t> shape;
  int64_t n = 1;
  for (const auto& d : j[key]["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (int64_t{1} << 31))
      fail("batch: '{}' shape must hold non-negative integers", key);
    shape.push_back(d.get<int64_t>());
    n *= shape.back();
    if (n > (int64_t{1} << 31)) fail("batch: '{}' is too large", key);
  }
  const auto& data = j[key]["data"];
  if (!data.is_array() || static_cast<int64_t>(data.size()) != n) fail("batch: '{}' data must hold {} numbers", key, n);
  std::vector<float> values;
  values.reserve(static_cast<size_t>(n));
  for (const auto& v : data) {
    if (!v.is_number()) fail("batch: '{}' data must hold numbers", key);
    values.push_back(v.get<float>());
  }
  return at::tensor(values, at::kFloat).view(shape);
}

void ft_inputs_to_json(const FtInputs& in, nlohmann::json& out) {
  out["input_ids"] = long_matrix_to_json(in.input_ids);
  out["token_type_ids"] = long_matrix_to_json(in.token_type_ids);
  out["attention_mask"] = long_matrix_to_json(in.attention_mask);
  out["image_mask"] = long_matrix_to_json(in.image_mask);
  out["features"] = float_tensor_json(in.features);
  out["locations"] = float_tensor_json(in.locations);
}

FtInputs ft_inputs_from_json(const nlohmann::json& j, const ModelConfig& text, const VilbertConfig& v) {
  FtInputs in;
  in.input_ids = long_matrix_from_json(j, "input_ids");
  in.token_type_ids = long_matrix_from_json(j, "token_type_ids");
  in.attention_mask = long_matrix_from_json(j, "attention_mask");
  in.image_mask = long_matrix_from_json(j, "image_mask");
  in.features = float_tensor_from_json(j, "features");
  in.locations = float_tensor_from_json(j, "locations");
  const int64_t N = in.input_ids.size(0), T = in.input_ids.size(1), R = in.image_mask.size(1);
  auto same = [&](const at::Tensor& t, const std::vector<int64_t>& shape, const char* key) {
    if (t.sizes().vec() != shape)
      fail("batch: '{}' has shape [{}] but the batch needs [{}]", key, fmt::join(t.sizes().vec(), ", "),
           fmt::join(shape, ", "));
  };
  same(in.token_type_ids, {N, T}, "token_type_ids");
  same(in.attention_mask, {N, T}, "attention_mask");
  same(in.features, {N, R, v.v_feature_size}, "features");
  same(in.locations, {N, R, 5}, "locations");
  if (N == 0 || T == 0 || R == 0) fail("batch: empty");
  if (in.input_ids.min().item<int64_t>() < 0 || in.input_ids.max().item<int64_t>() >= text.vocab_size)
    fail("batch: 'input_ids' outside the vocabulary [0, {})", text.vocab_size);
  if (in.token_type_ids.min().item<int64_t>() < 0 || in.token_type_ids.max().item<int64_t>() >= text.type_vocab_size)
    fail("batch: 'token_type_ids' outside [0, {})", text.type_vocab_size);
  if (T > text.max_position_embeddings)
    fail("batch: {} tokens exceed max_position_embeddings {}", T, text.max_position_embeddings);
  return in;
}

// ---------------------------------------------------------------- models

FtModel build_ft_model(Config& config, const TaskInputs& inputs, const models::VilbertHeadSpec& heads,
                       int64_t feature_dim, const std::string& task) {
  FtModel b;
  if (!inputs.init.empty()) {
    models::VilbertFolder folder = models::read_vilbert_folder(inputs.init);
    if (folder.vocab_path.empty()) fail("{}: no vocab.txt next to the weights", inputs.init);
    VilbertConfig v = config.vilbert;  // training settings stay; geometry comes from the folder
    for (auto f : {&VilbertConfig::v_feature_size, &VilbertConfig::v_target_size, &VilbertConfig::v_hidden_size,
                    &VilbertConfig::v_num_hidden_layers, &VilbertConfig::v_num_attention_heads,
                    &VilbertConfig::v_intermediate_size, &VilbertConfig::bi_hidden_size,
                    &VilbertConfig::bi_num_attention_heads})
      v.*f = folder.vilbert.*f;
    v.t_biattention_id = folder.vilbert.t_biattention_id;
    v.v_biattention_id = folder.vilbert.v_biattention_id;
    v.fusion = folder.vilbert.fusion;
    v.region_objective = folder.vilbert.region_objective;
    config.model = folder.text;
    config.vilbert = v;
    if (feature_dim > 0 && feature_dim != v.v_feature_size)
      fail("task {}: the images have {}-d region features but {} takes {}", task, feature_dim, inputs.init,
           v.v_feature_size);
    b.tokenizer = text::load_tokenizer(folder.vocab_path, config.data.lowercase);
    b.model = models::VilbertForTasks(config.model, config.vilbert, heads);
    auto load = models::load_vilbert_for_tasks(*b.model, folder.weights, inputs.init);
    log::info("{}: body from {}; heads loaded: {}{}", task, inputs.init,
              load.heads_loaded.empty() ? "none" : fmt::format("{}", fmt::join(load.heads_loaded, ", ")),
              load.score_from_alignment ? "; score head from the alignment head" : "");
    return b;
  }
  if (config.data.vocab.empty())
    fail("task {}: give --init DIR (a ViLBERT folder) or a vocabulary with --vocab / data.vocab", task);
  b.tokenizer = text::load_tokenizer(config.data.vocab, config.data.lowercase);
  config.model.vocab_size = b.tokenizer->vocab_size();
  config.model.pad_token_id = b.tokenizer->specials().pad;
  if (feature_dim > 0) config.vilbert.v_feature_size = feature_dim;
  b.model = models::VilbertForTasks(config.model, config.vilbert, heads);
  return b;
}

FtModel load_ft_model_for_loss(const std::string& dir, const models::VilbertHeadSpec& heads) {
  if (dir.empty()) fail("loss: --model DIR (a ViLBERT folder) is required");
  models::VilbertFolder folder = models::read_vilbert_folder(dir);
  models::VilbertHeadSpec spec = heads;
  if (spec.answers < 0) {  // the answer vocabulary size is the folder's head's
    auto it = folder.weights.find("vil_prediction.decoder.weight");
    if (it == folder.weights.end() || it->second.dim() != 2)
      fail("{}: no answer head (vil_prediction.decoder.weight): not a vilbert-vqa model", dir);
    spec.answers = it->second.size(0);
  }
  FtModel b;
  b.model = models::VilbertForTasks(folder.text, folder.vilbert, spec);
  models::load_vilbert_for_tasks(*b.model, folder.weights, dir);
  b.model->eval();
  return b;
}

// ---------------------------------------------------------------- task base

VilbertFtTask::VilbertFtTask(std::string name, const Config& config, FtModel built, int64_t examples)
    : name_(std::move(name)),
      config_(config),
      model_(built.model),
      tokenizer_(built.tokenizer),
      order_(data::EpochOrder::over(examples, static_cast<uint64_t>(config.trainer.seed), 0x7669667474)) {}

std::vector<train::NamedParameter> VilbertFtTask::parameters() {
  std::vector<train::NamedParameter> params;
  for (auto& item : model_->named_parameters(true))
    params.push_back({item.key(), item.value(), !train::is_no_decay_name(item.key()), 1.0});
  return params;
}

void VilbertFtTask::save_model(const std::string& dir) {
  models::write_vilbert_folder(dir, config_.model, config_.vilbert, models::weights_of(*model_));
  tokenizer_->save(dir);
}

void VilbertFtTask::load_model(const std::string& dir) {
  models::VilbertFolder folder = models::read_vilbert_folder(dir);
  models::load_weights(*model_, folder.weights, models::LoadMode::strict, dir);
}

}  // namespace cotrain::tasks
