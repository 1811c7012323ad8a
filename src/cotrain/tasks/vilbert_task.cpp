#include "cotrain/tasks/vilbert_task.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <numeric>

#include "cotrain/core/error.h"
#include <fmt/ranges.h>
#include "cotrain/core/log.h"
#include "cotrain/models/vilbert/vilbert_weights.h"
#include "cotrain/objectives/alignment.h"
#include "cotrain/tasks/mlm_task.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

VilbertTask::VilbertTask(const Config& config, models::VilbertForPretraining model,
                         std::shared_ptr<text::Tokenizer> tokenizer, std::unique_ptr<data::ShardSet> store,
                         std::set<std::string> text_init_names)
    : config_(config),
      model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      store_(std::move(store)),
      text_init_names_(std::move(text_init_names)) {
  const size_t limit = static_cast<size_t>(config_.data.max_length - 2);
  tokens_.reserve(static_cast<size_t>(store_->num_captions()));
  for (int64_t i = 0; i < store_->num_captions(); ++i) {
    std::vector<int64_t> ids = tokenizer_->encode(std::string(store_->caption(i).text));
    if (ids.size() > limit) ids.resize(limit);
    tokens_.push_back(std::move(ids));
  }
  order_ = data::EpochOrder::over(static_cast<int64_t>(tokens_.size()), static_cast<uint64_t>(config_.trainer.seed),
                                  0x6f72646572);
}

std::vector<train::NamedParameter> VilbertTask::parameters() {
  std::vector<train::NamedParameter> params;
  for (auto& item : model_->named_parameters(true)) {
    const bool from_bert = text_init_names_.count(item.key()) > 0;
    // No decay on biases and LayerNorm (the reference had this inverted).
    params.push_back({item.key(), item.value(), !train::is_no_decay_name(item.key()),
                      from_bert ? config_.vilbert.text_lr_scale : 1.0});
  }
  return params;
}

VilbertBatch VilbertTask::next_batch(Rng& rng) {
  const int64_t B = config_.trainer.batch_size;
  const int64_t n = static_cast<int64_t>(tokens_.size());
  std::vector<CaptionInput> captions;
  std::vector<ImageInput> images;
  while (static_cast<int64_t>(captions.size()) < B) {
    const int64_t index = order_.next();
    const uint32_t image = store_->caption(index).image_index;
    CaptionInput c;
    c.token_ids = tokens_[static_cast<size_t>(index)];
    c.alignment = objectives::kAligned;
    // Alignment: with probability swap_prob the caption is replaced by one of
    // another image (only the caption is swapped, as in the reference code).
    if (n > 1 && rng.bernoulli(config_.vilbert.swap_prob)) {
      for (int tries = 0; tries < 10; ++tries) {
        const int64_t other = rng.below(n);
        if (store_->caption(other).image_index == image) continue;
        c.token_ids = tokens_[static_cast<size_t>(other)];
        c.alignment = objectives::kSwapped;
        break;
      }
    }
    captions.push_back(std::move(c));
    images.push_back(make_image_input(store_->image(image), config_.vilbert, rng));
  }
  return collate_vilbert_batch(captions, images, *tokenizer_, config_.data.mask_prob, config_.vilbert, rng);
}

void VilbertTask::set_data_shard(int64_t rank, int64_t world_size) {
  if (config_.trainer.batch_size % world_size != 0)
    fail("trainer.batch_size ({}) must be a multiple of the number of processes ({}): it is the global batch, "
         "split evenly over the processes", config_.trainer.batch_size, world_size);
  shard_rank_ = rank;
  shard_count_ = world_size;
}

VilbertBatch vilbert_local_batch(const VilbertBatch& global, int64_t rank, int64_t world) {
  const int64_t B = global.input_ids.size(0);
  if (B < world) fail("vilbert: a micro-batch of {} rows cannot be split over {} processes", B, world);
  at::Tensor rows = at::arange(rank, B, world, at::kLong);
  VilbertBatch local;
  local.input_ids = global.input_ids.index_select(0, rows);
  local.token_type_ids = global.token_type_ids.index_select(0, rows);
  local.attention_mask = global.attention_mask.index_select(0, rows);
  local.mlm_labels = global.mlm_labels.index_select(0, rows);
  local.features = global.features.index_select(0, rows);
  local.locations = global.locations.index_select(0, rows);
  local.image_mask = global.image_mask.index_select(0, rows);
  local.region_masked = global.region_masked.index_select(0, rows);
  local.region_targets = global.region_targets.index_select(0, rows);
  local.alignment_labels = global.alignment_labels.index_select(0, rows);
  return local;
}

VilbertLosses vilbert_losses_shared(models::VilbertForPretrainingImpl& model, const VilbertBatch& global,
                                    const VilbertConfig& config, int64_t rank, int64_t world) {
  // The alignment negatives were drawn while building the global batch (one
  // process's order), so slicing rows after the swap keeps them.
  const VilbertBatch local = vilbert_local_batch(global, rank, world);
  VilbertLosses l = vilbert_losses(run_vilbert(model, local), local, config);  // local means
  auto share = [](const at::Tensor& mean, double local_count, double global_count) {
    return local_count == 0 || global_count == 0 ? mean * 0.0 : mean * (local_count / global_count);
  };
  auto masked_tokens = [](const VilbertBatch& b) { return b.mlm_labels.ne(-100).sum().item<double>(); };
  auto masked_regions = [](const VilbertBatch& b) { return b.region_masked.ne(0).sum().item<double>(); };
  l.mlm = share(l.mlm, masked_tokens(local), masked_tokens(global));
  l.region = share(l.region, masked_regions(local), masked_regions(global));
  l.alignment = share(l.alignment, static_cast<double>(local.input_ids.size(0)),
                      static_cast<double>(global.input_ids.size(0)));
  l.total = config.mlm_weight * l.mlm + config.region_weight * l.region + config.alignment_weight * l.alignment;
  return l;
}

train::LossTerms VilbertTask::next_loss(Rng& rng) {
  VilbertBatch batch = next_batch(rng);
  VilbertLosses l;
  if (shard_count_ > 1) {
    l = vilbert_losses_shared(*model_, batch, config_.vilbert, shard_rank_, shard_count_);
    batch = vilbert_local_batch(batch, shard_rank_, shard_count_);  // for the sample and token counts
  } else {
    l = vilbert_losses(run_vilbert(*model_, batch), batch, config_.vilbert);
  }
  train::LossTerms terms;
  terms.terms["total"] = l.total;
  terms.terms["mlm"] = l.mlm.detach();
  terms.terms["region"] = l.region.detach();
  terms.terms["alignment"] = l.alignment.detach();
  terms.samples = batch.input_ids.size(0);
  terms.tokens = batch.attention_mask.sum().item<int64_t>();
  return terms;
}

nlohmann::json VilbertTask::data_state() const { return order_.state(); }

void VilbertTask::restore_data_state(const nlohmann::json& state) { order_.restore(state, "captions"); }

void VilbertTask::save_model(const std::string& dir) {
  models::write_vilbert_folder(dir, config_.model, config_.vilbert, models::weights_of(*model_));
  tokenizer_->save(dir);
}

void VilbertTask::load_model(const std::string& dir) {
  models::VilbertFolder folder = models::read_vilbert_folder(dir);
  models::load_vilbert_weights(*model_, folder.weights, models::LoadMode::strict, dir);
}

namespace {
struct Built {
  models::VilbertForPretraining model{nullptr};
  std::shared_ptr<text::Tokenizer> tokenizer;
  std::set<std::string> text_init_names;
};

// A model from --init (a ViLBERT folder with its vocabulary) or from the config, the
// vocabulary and the store's feature width / class count.
Built build_model(Config& config, const TaskInputs& inputs, const data::ShardSet* store) {
  Built b;
  if (!inputs.init.empty()) {
    models::VilbertFolder folder = models::read_vilbert_folder(inputs.init);
    if (folder.vocab_path.empty()) fail("{}: no vocab.txt next to the weights", inputs.init);
    VilbertConfig v = config.vilbert;  // training settings stay; geometry comes from the folder
    v.v_feature_size = folder.vilbert.v_feature_size;
    v.v_target_size = folder.vilbert.v_target_size;
    v.v_hidden_size = folder.vilbert.v_hidden_size;
    v.v_num_hidden_layers = folder.vilbert.v_num_hidden_layers;
    v.v_num_attention_heads = folder.vilbert.v_num_attention_heads;
    v.v_intermediate_size = folder.vilbert.v_intermediate_size;
    v.bi_hidden_size = folder.vilbert.bi_hidden_size;
    v.bi_num_attention_heads = folder.vilbert.bi_num_attention_heads;
    v.t_biattention_id = folder.vilbert.t_biattention_id;
    v.v_biattention_id = folder.vilbert.v_biattention_id;
    v.fusion = folder.vilbert.fusion;
    v.region_objective = folder.vilbert.region_objective;
    config.model = folder.text;
    config.vilbert = v;
    b.tokenizer = text::load_tokenizer(folder.vocab_path, config.data.lowercase);
    b.model = models::VilbertForPretraining(config.model, config.vilbert);
    models::load_vilbert_weights(*b.model, folder.weights, models::LoadMode::strict, inputs.init);
    return b;
  }
  if (config.data.vocab.empty())
    fail("task vilbert: give --init DIR (a ViLBERT folder) or a vocabulary with --vocab / data.vocab");
  b.tokenizer = text::load_tokenizer(config.data.vocab, config.data.lowercase);
  config.model.vocab_size = b.tokenizer->vocab_size();
  config.model.pad_token_id = b.tokenizer->specials().pad;
  if (store) {  // the data decides the visual input widths
    config.vilbert.v_feature_size = store->feature_dim();
    if (config.vilbert.region_objective == "kl") {
      if (store->num_classes() == 0)
        fail("task vilbert: the store has no class probabilities (prepare with detector cls_prob or --codebook), "
             "or set vilbert.region_objective=regression");
      config.vilbert.v_target_size = store->num_classes();
    }
  }
  b.model = models::VilbertForPretraining(config.model, config.vilbert);
  if (!config.vilbert.text_init.empty()) {
    auto names = models::load_text_stream(*b.model, config.vilbert.text_init);
    b.text_init_names.insert(names.begin(), names.end());
    log::info("text stream: {} tensors from {} (lr x{})", names.size(), config.vilbert.text_init,
              config.vilbert.text_lr_scale);
  }
  return b;
}
}  // namespace

std::unique_ptr<train::TrainTask> make_vilbert_task(Config& config, const TaskInputs& inputs) {
  if (config.data.train.empty()) fail("task vilbert: no training data (data.train: a 'cotrain prepare' folder)");
  auto store = std::make_unique<data::ShardSet>(config.data.train.front());
  if (store->num_captions() == 0) fail("{}: no captions", config.data.train.front());
  if (config.data.max_length > config.model.max_position_embeddings)
    fail("data.max_length ({}) exceeds model.max_position_embeddings ({})", config.data.max_length,
         config.model.max_position_embeddings);
  Built b = build_model(config, inputs, store.get());
  log::info("vilbert: {} captions, {} images; layers {}", store->num_captions(), store->num_images(),
            b.model->bert->encoder->schedule());
  return std::make_unique<VilbertTask>(config, b.model, b.tokenizer, std::move(store), std::move(b.text_init_names));
}

namespace {
nlohmann::json float_tensor_to_json(const at::Tensor& t) {
  at::Tensor c = t.to(at::kDouble).contiguous();
  return nlohmann::json{{"shape", c.sizes().vec()},
                        {"data", std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel())}};
}
at::Tensor float_tensor_from_json(const nlohmann::json& j, const std::string& key) {
  if (!j.contains(key) || !j[key].is_object() || !j[key].contains("shape") || !j[key].contains("data"))
    fail("batch: '{}' must be {{\"shape\": [...], \"data\": [...]}}", key);
  std::vector<int64_t> shape;
  int64_t n = 1;
  for (const auto& d : j[key]["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) fail("batch: '{}' shape must hold non-negative integers", key);
    shape.push_back(d.get<int64_t>());
    n *= shape.back();
  }
  const auto& data = j[key]["data"];
  if (!data.is_array() || static_cast<int64_t>(data.size()) != n)
    fail("batch: '{}' data must hold {} numbers", key, n);
  std::vector<float> values;
  values.reserve(static_cast<size_t>(n));
  for (const auto& v : data) {
    if (!v.is_number()) fail("batch: '{}' data must hold numbers", key);
    values.push_back(v.get<float>());
  }
  return at::tensor(values, at::kFloat).view(shape);
}
}  // namespace

nlohmann::json write_vilbert_batch(Config& config, const TaskInputs& inputs) {
  auto task = make_vilbert_task(config, inputs);
  auto& vt = static_cast<VilbertTask&>(*task);
  Rng rng = train::initial_data_rng(config.trainer);
  VilbertBatch b = vt.next_batch(rng);
  return {{"task", "vilbert"},
          {"input_ids", long_matrix_to_json(b.input_ids)},
          {"token_type_ids", long_matrix_to_json(b.token_type_ids)},
          {"attention_mask", long_matrix_to_json(b.attention_mask)},
          {"mlm_labels", long_matrix_to_json(b.mlm_labels)},
          {"image_mask", long_matrix_to_json(b.image_mask)},
          {"region_masked", long_matrix_to_json(b.region_masked)},
          {"alignment_labels", std::vector<int64_t>(b.alignment_labels.data_ptr<int64_t>(),
                                                    b.alignment_labels.data_ptr<int64_t>() + b.alignment_labels.numel())},
          {"features", float_tensor_to_json(b.features)},
          {"locations", float_tensor_to_json(b.locations)},
          {"region_targets", float_tensor_to_json(b.region_targets)}};
}

nlohmann::json vilbert_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& j) {
  if (inputs.init.empty()) fail("loss --task vilbert: --model DIR (a ViLBERT folder) is required");
  models::VilbertFolder folder = models::read_vilbert_folder(inputs.init);
  VilbertConfig v = folder.vilbert;
  v.mlm_weight = config.vilbert.mlm_weight;
  v.region_weight = config.vilbert.region_weight;
  v.alignment_weight = config.vilbert.alignment_weight;
  models::VilbertForPretraining model(folder.text, v);
  models::load_vilbert_weights(*model, folder.weights, models::LoadMode::strict, inputs.init);
  model->eval();
  VilbertBatch b;
  b.input_ids = long_matrix_from_json(j, "input_ids");
  b.token_type_ids = long_matrix_from_json(j, "token_type_ids");
  b.attention_mask = long_matrix_from_json(j, "attention_mask");
  b.mlm_labels = long_matrix_from_json(j, "mlm_labels");
  b.image_mask = long_matrix_from_json(j, "image_mask");
  b.region_masked = long_matrix_from_json(j, "region_masked");
  if (!j.contains("alignment_labels") || !j["alignment_labels"].is_array()) fail("batch: 'alignment_labels' missing");
  std::vector<int64_t> align;
  for (const auto& x : j["alignment_labels"]) {
    if (!x.is_number_integer() || (x.get<int64_t>() != 0 && x.get<int64_t>() != 1))
      fail("batch: 'alignment_labels' must hold 0 or 1");
    align.push_back(x.get<int64_t>());
  }
  b.alignment_labels = at::tensor(align, at::kLong);
  b.features = float_tensor_from_json(j, "features");
  b.locations = float_tensor_from_json(j, "locations");
  b.region_targets = float_tensor_from_json(j, "region_targets");
  const int64_t B = b.input_ids.size(0), T = b.input_ids.size(1), R = b.image_mask.size(1);
  auto same = [&](const at::Tensor& t, std::vector<int64_t> shape, const char* key) {
    if (t.sizes().vec() != shape)
      fail("batch: '{}' has shape [{}] but the batch needs [{}]", key, fmt::join(t.sizes().vec(), ", "),
           fmt::join(shape, ", "));
  };
  same(b.token_type_ids, {B, T}, "token_type_ids");
  same(b.attention_mask, {B, T}, "attention_mask");
  same(b.mlm_labels, {B, T}, "mlm_labels");
  same(b.region_masked, {B, R}, "region_masked");
  same(b.alignment_labels, {B}, "alignment_labels");
  same(b.features, {B, R, v.v_feature_size}, "features");
  same(b.locations, {B, R, 5}, "locations");
  if (b.input_ids.min().item<int64_t>() < 0 || b.input_ids.max().item<int64_t>() >= folder.text.vocab_size)
    fail("batch: 'input_ids' outside the vocabulary [0, {})", folder.text.vocab_size);
  if (T > folder.text.max_position_embeddings)
    fail("batch: {} tokens exceed max_position_embeddings {}", T, folder.text.max_position_embeddings);
  const int64_t width = v.region_objective == "regression" ? v.v_feature_size : v.v_target_size;
  same(b.region_targets, {B, R, width}, "region_targets");
  auto out = run_vilbert(*model, b);
  VilbertLosses l = vilbert_losses(out, b, v);
  return {{"mlm", l.mlm.item<double>()},
          {"region", l.region.item<double>()},
          {"alignment", l.alignment.item<double>()},
          {"total", l.total.item<double>()}};
}

}  // namespace cotrain::tasks
