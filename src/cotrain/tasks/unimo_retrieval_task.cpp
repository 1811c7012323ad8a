#include "cotrain/tasks/unimo_retrieval_task.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/utils.h>

#include <algorithm>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/core/log.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/models/weights.h"
#include "cotrain/tasks/retrieval_eval.h"
#include "cotrain/tasks/retrieval_losses.h"
#include "cotrain/tasks/unimo_retrieval_scorer.h"
#include "cotrain/train/checkpoint.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

namespace {

void validate(const UnimoRetrievalConfig& c) {
  if (c.negative_images < 0 || c.negative_texts < 0) fail("unimo_retrieval: negative counts must be >= 0");
  if (c.negative_images + c.negative_texts < 1) fail("unimo_retrieval: at least one negative per positive is needed");
  if (c.loss != "softmax" && c.loss != "circle") fail("unimo_retrieval.loss: '{}' is not softmax or circle", c.loss);
  if (!(c.circle_gamma > 0)) fail("unimo_retrieval.circle_gamma must be positive");
  if (!(c.circle_margin >= 0 && c.circle_margin < 1)) fail("unimo_retrieval.circle_margin must be in [0, 1)");
  if (c.rerank_k < 0) fail("unimo_retrieval.rerank_k must be >= 0");
}

models::UnimoInputs inputs_of(const UnimoRetrievalBatch& b) {
  models::UnimoInputs in;
  in.region_features = b.images.features;
  in.region_boxes = b.images.boxes;
  in.region_mask = b.images.region_mask;
  in.input_ids = b.texts.input_ids;
  in.text_mask = b.texts.attention_mask;
  return in;
}

// A random index in [0, n) that `bad` refuses, drawn by rejection; -1 when none is
// allowed after many tries (only tiny data sets get there).
template <class Bad>
int64_t draw_other(Rng& rng, int64_t n, Bad bad) {
  for (int tries = 0; tries < 1000; ++tries) {
    const int64_t k = rng.below(n);
    if (!bad(k)) return k;
  }
  return -1;
}

}  // namespace

nlohmann::json unimo_retrieval_batch_to_json(const UnimoRetrievalBatch& b) {
  return {{"task", "retrieval"},
          {"group", b.group},
          {"pair",
           {{"input_ids", tensor_to_json(b.texts.input_ids)},
            {"attention_mask", tensor_to_json(b.texts.attention_mask)},
            {"features", tensor_to_json(b.images.features)},
            {"boxes", tensor_to_json(b.images.boxes)},
            {"region_mask", tensor_to_json(b.images.region_mask)}}}};
}

UnimoRetrievalBatch unimo_retrieval_batch_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("pair") || !j["pair"].is_object()) fail("batch: no \"pair\" object");
  if (!j.contains("group") || !j["group"].is_number_integer()) fail("batch: group: must be an integer");
  const auto& p = j["pair"];
  for (const char* key : {"input_ids", "attention_mask", "features", "boxes", "region_mask"})
    if (!p.contains(key)) fail("batch: pair.{}: missing", key);
  UnimoRetrievalBatch b;
  b.group = j["group"].get<int64_t>();
  b.texts.input_ids = tensor_from_json(p["input_ids"], "pair.input_ids", true);
  b.texts.attention_mask = tensor_from_json(p["attention_mask"], "pair.attention_mask", true);
  b.images.features = tensor_from_json(p["features"], "pair.features", false);
  b.images.boxes = tensor_from_json(p["boxes"], "pair.boxes", false);
  b.images.region_mask = tensor_from_json(p["region_mask"], "pair.region_mask", true);
  const int64_t rows = b.texts.input_ids.dim() == 2 ? b.texts.input_ids.size(0) : -1;
  if (rows < 1 || b.texts.attention_mask.sizes() != b.texts.input_ids.sizes())
    fail("batch: pair.input_ids / attention_mask: must be [rows, M] of one shape");
  if (b.images.features.dim() != 3 || b.images.features.size(0) != rows || b.images.boxes.dim() != 3 ||
      b.images.boxes.size(0) != rows || b.images.boxes.size(1) != b.images.features.size(1) ||
      b.images.boxes.size(2) != 5 || b.images.region_mask.dim() != 2 ||
      b.images.region_mask.size(0) != rows || b.images.region_mask.size(1) != b.images.features.size(1))
    fail("batch: pair.features / boxes / region_mask: shapes disagree with input_ids ({} rows)", rows);
  if (b.group < 2 || rows % b.group != 0) fail("batch: group: {} does not divide {} rows into groups of 2 or more", b.group, rows);
  return b;
}

std::map<std::string, at::Tensor> unimo_retrieval_losses(models::UnimoModelImpl& model,
                                                         const UnimoRetrievalBatch& batch,
                                                         const UnimoRetrievalConfig& config) {
  const models::UnimoEncoded enc = model.forward(inputs_of(batch));
  const at::Tensor scores = model.score(model.pool_image(enc.h_img), model.pool_text(enc.h_cls)).view({-1, batch.group});
  at::Tensor loss = config.loss == "circle"
                        ? retrieval_circle_loss(scores, config.circle_margin, config.circle_gamma)
                        : retrieval_softmax_loss(scores);
  std::map<std::string, at::Tensor> out;
  out["retrieval_" + config.loss] = loss;
  out["total"] = loss;
  // How often the positive already wins its group (a training-time accuracy).
  out["positive_top1"] = (scores.argmax(1) == 0).to(at::kDouble).mean();
  return out;
}

UnimoRetrievalTask::UnimoRetrievalTask(const Config& config, models::UnimoFolder model)
    : config_(config), model_(std::move(model)) {
  if (config_.data.train.size() != 1) fail("task retrieval: give one training store (data.train / --data)");
  train_ = load_retrieval_set(config_.data.train.front(), {});
  if (train_.images.front().feature_dim != model_.geometry.region_feature_dim)
    fail("{}: regions of {} features, but the model takes {}", config_.data.train.front(),
         train_.images.front().feature_dim, model_.geometry.region_feature_dim);
  texts_of_image_.resize(static_cast<size_t>(train_.num_images()));
  for (int64_t t = 0; t < train_.num_texts(); ++t)
    texts_of_image_[static_cast<size_t>(train_.text_to_image[static_cast<size_t>(t)])].push_back(t);
  if (train_.num_images() < 2) fail("{}: retrieval fine-tuning needs at least 2 images", config_.data.train.front());
  order_ = data::EpochOrder::over(train_.num_texts(), static_cast<uint64_t>(config_.trainer.seed), 0x5e7a1);
  log::info("retrieval: {} images, {} captions; per positive {} negative images + {} negative captions, {} loss",
            train_.num_images(), train_.num_texts(), config_.unimo_retrieval.negative_images,
            config_.unimo_retrieval.negative_texts, config_.unimo_retrieval.loss);
}

std::vector<train::NamedParameter> UnimoRetrievalTask::parameters() {
  std::vector<train::NamedParameter> params;
  for (auto& item : model_.model->named_parameters(true)) {
    // Not used by the pair score (CMCL's temperature, masked-modelling heads): left
    // out so that weight decay does not shrink them for nothing.
    const std::string& n = item.key();
    if (n == "logit_scale" || n.rfind("region_head.", 0) == 0 || n.rfind("cls.predictions.", 0) == 0) continue;
    params.push_back({n, item.value(), !train::is_no_decay_name(n), 1.0});
  }
  return params;
}

UnimoRetrievalBatch UnimoRetrievalTask::next_batch(Rng& rng) {
  const auto& c = config_.unimo_retrieval;
  const int64_t B = config_.trainer.batch_size;
  std::vector<const data::Regions*> regions;
  std::vector<const std::string*> texts;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t t = order_.next();
    const int64_t i = train_.text_to_image[static_cast<size_t>(t)];
    regions.push_back(&train_.images[static_cast<size_t>(i)]);
    texts.push_back(&train_.texts[static_cast<size_t>(t)]);
    for (int64_t k = 0; k < c.negative_images; ++k) {
      const int64_t j = draw_other(rng, train_.num_images(), [&](int64_t x) { return x == i; });
      regions.push_back(&train_.images[static_cast<size_t>(j)]);
      texts.push_back(&train_.texts[static_cast<size_t>(t)]);
    }
    for (int64_t k = 0; k < c.negative_texts; ++k) {
      int64_t u = draw_other(rng, train_.num_texts(),
                             [&](int64_t x) { return train_.text_to_image[static_cast<size_t>(x)] == i; });
      if (u < 0) fail("{}: no caption of another image to draw as a negative", config_.data.train.front());
      regions.push_back(&train_.images[static_cast<size_t>(i)]);
      texts.push_back(&train_.texts[static_cast<size_t>(u)]);
    }
  }
  UnimoRetrievalBatch batch;
  batch.group = 1 + c.negative_images + c.negative_texts;
  batch.images = unimo_image_part(regions, model_.geometry.region_feature_dim, config_.unimo.max_regions);
  batch.texts = unimo_text_part(*model_.tokenizer, texts, config_.data.max_length);
  return batch;
}

train::LossTerms UnimoRetrievalTask::next_loss(Rng& rng) {
  UnimoRetrievalBatch batch = next_batch(rng);
  auto out = unimo_retrieval_losses(*model_.model, batch, config_.unimo_retrieval);
  train::LossTerms losses;
  for (auto& [name, t] : out) losses.terms[name] = name == "total" ? t : t.detach();
  losses.samples = batch.texts.input_ids.size(0) / batch.group;
  losses.tokens = batch.texts.attention_mask.sum().item<int64_t>();
  return losses;
}

void UnimoRetrievalTask::load_model(const std::string& dir) {
  models::load_weights(*model_.model, io::load_safetensors(join_path(dir, "model.safetensors")).tensors,
                       models::LoadMode::strict, dir);
}

namespace {
models::UnimoFolder init_folder(Config& config, const TaskInputs& inputs) {
  validate(config.unimo_retrieval);
  if (inputs.init.empty()) fail("finetune --task retrieval: --init DIR (a UNIMO folder or run folder) is required");
  models::UnimoFolder folder = models::load_unimo_folder(train::resolve_model_dir(inputs.init));
  if (!folder.tokenizer) fail("{}: the UNIMO folder has no vocabulary", inputs.init);
  config.model = folder.config;
  config.unimo.region_feature_dim = folder.geometry.region_feature_dim;
  config.unimo.num_region_classes = folder.geometry.num_region_classes;
  const int64_t limit = config.model.max_position_embeddings - (config.model.type == "roberta" ? 2 : 0);
  if (config.data.max_length > limit) config.data.max_length = limit;
  return folder;
}
}  // namespace

std::unique_ptr<train::TrainTask> make_unimo_retrieval_task(Config& config, const TaskInputs& inputs) {
  models::UnimoFolder folder = init_folder(config, inputs);
  return std::make_unique<UnimoRetrievalTask>(config, std::move(folder));
}

nlohmann::json write_unimo_retrieval_batch(Config& config, const TaskInputs& inputs) {
  auto task = make_unimo_retrieval_task(config, inputs);
  Rng rng = train::initial_data_rng(config.trainer);
  return unimo_retrieval_batch_to_json(static_cast<UnimoRetrievalTask&>(*task).next_batch(rng));
}

nlohmann::json unimo_retrieval_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& j) {
  validate(config.unimo_retrieval);
  if (inputs.init.empty()) fail("loss --task retrieval: --model DIR is required");
  models::UnimoFolder folder = models::load_unimo_folder(train::resolve_model_dir(inputs.init));
  folder.model->eval();
  UnimoRetrievalBatch batch = unimo_retrieval_batch_from_json(j);
  torch::NoGradGuard no_grad;
  nlohmann::json result = nlohmann::json::object();
  for (const auto& [name, t] : unimo_retrieval_losses(*folder.model, batch, config.unimo_retrieval))
    result[name] = t.item<double>();
  return result;
}

nlohmann::json finish_unimo_retrieval(Config& config, train::TrainTask& /*task*/, const std::string& checkpoint,
                                      const std::string& /*run_dir*/) {
  if (config.data.valid.empty()) return nullptr;
  RetrievalScorerOptions o;
  o.batch_size = std::max<int64_t>(1, config.trainer.batch_size);
  o.max_regions = config.unimo.max_regions;
  o.max_length = config.data.max_length;
  UnimoRetrievalScorer scorer(checkpoint, o);
  const RetrievalSet dev = load_retrieval_set(config.data.valid.front(), {});
  RetrievalEvalOptions eo;
  eo.rerank_k = config.unimo_retrieval.rerank_k;
  nlohmann::json report = retrieval_report(scorer, dev, evaluate_retrieval(scorer, dev, eo));
  report["data"] = config.data.valid.front();
  return report;
}

}  // namespace cotrain::tasks
