#include "cotrain/tasks/vilbert_ft_grounding.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/tasks/vilbert_ft_losses.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

namespace {
// A referred region counts as found when the top-scored region overlaps it this much
// (the RefCOCO convention, whatever the training threshold).
constexpr double kAccuracyIoU = 0.5;
}  // namespace

void grounding_targets(const FtImageRows& rows, const float* box, double threshold, float* targets, float* weights,
                       float* iou) {
  targets[0] = weights[0] = iou[0] = 0.f;  // the IMG token is never a target
  for (int64_t i = 1; i < rows.count; ++i) {
    const double overlap = box_iou(rows.boxes.data() + 4 * (i - 1), box);
    iou[i] = static_cast<float>(overlap);
    targets[i] = overlap > threshold ? 1.f : 0.f;
    weights[i] = 1.f;
  }
}

VilbertGroundingTask::VilbertGroundingTask(const Config& config, FtModel built, std::vector<GroundingRecord> train,
                                           FtImages images)
    : VilbertFtTask("vilbert-grounding", config, std::move(built), static_cast<int64_t>(train.size())),
      train_(std::move(train)),
      images_(std::move(images)) {}

GroundingBatch VilbertGroundingTask::collate(const std::vector<const GroundingRecord*>& records,
                                             const std::string& source) {
  std::vector<std::vector<int64_t>> texts;
  std::vector<FtImageRows> rows;
  rows.reserve(records.size());
  for (const auto* r : records) {
    const int64_t image = images_.find(r->image);
    if (image < 0) fail("{}: line {}: image '{}' is not in {}", source, r->line, r->image, images_.path());
    texts.push_back(encode_ft_text(*tokenizer_, r->expression, config_.data.max_length));
    rows.push_back(image_rows(images_.image(image), config_.vilbert.max_regions));
  }
  std::vector<const FtImageRows*> ptrs;
  for (const auto& r : rows) ptrs.push_back(&r);
  GroundingBatch batch;
  batch.inputs = collate_ft_inputs(texts, ptrs, tokenizer_->specials(), config_.vilbert.v_feature_size);
  const int64_t B = batch.inputs.image_mask.size(0), R = batch.inputs.image_mask.size(1);
  batch.region_targets = at::zeros({B, R});
  batch.region_weights = at::zeros({B, R});
  batch.region_iou = at::zeros({B, R});
  for (int64_t b = 0; b < B; ++b)
    grounding_targets(rows[static_cast<size_t>(b)], records[static_cast<size_t>(b)]->box.data(),
                      config_.vilbert_ft.iou_threshold, batch.region_targets[b].data_ptr<float>(),
                      batch.region_weights[b].data_ptr<float>(), batch.region_iou[b].data_ptr<float>());
  return batch;
}

GroundingBatch VilbertGroundingTask::next_batch(Rng&) {
  std::vector<const GroundingRecord*> records;
  for (int64_t b = 0; b < config_.trainer.batch_size; ++b) records.push_back(&train_[static_cast<size_t>(order_.next())]);
  return collate(records, config_.data.train.front());
}

train::LossTerms VilbertGroundingTask::next_loss(Rng& rng) {
  GroundingBatch batch = next_batch(rng);
  auto out = run_ft(*model_, batch.inputs);
  train::LossTerms terms;
  terms.terms["total"] = region_bce_loss(out.region_logits, batch.region_targets, batch.region_weights);
  terms.samples = batch.inputs.input_ids.size(0);
  terms.tokens = batch.inputs.attention_mask.sum().item<int64_t>();
  return terms;
}

nlohmann::json VilbertGroundingTask::evaluate(const std::vector<GroundingRecord>& records, const std::string& source) {
  torch::NoGradGuard no_grad;
  model_->eval();
  int64_t hits = 0;
  const size_t step = static_cast<size_t>(std::max<int64_t>(config_.trainer.batch_size, 1));
  for (size_t start = 0; start < records.size(); start += step) {
    std::vector<const GroundingRecord*> chunk;
    for (size_t i = start; i < std::min(records.size(), start + step); ++i) chunk.push_back(&records[i]);
    GroundingBatch batch = collate(chunk, source);
    at::Tensor logits = run_ft(*model_, batch.inputs).region_logits;
    // Only real regions compete (not the IMG token, not padding).
    logits = logits.masked_fill(batch.region_weights.eq(0), -1e30);
    at::Tensor best = logits.argmax(1, true);
    hits += batch.region_iou.gather(1, best).gt(kAccuracyIoU).sum().item<int64_t>();
  }
  model_->train();
  const double n = static_cast<double>(records.size());
  return {{"expressions", records.size()}, {"accuracy", n > 0 ? static_cast<double>(hits) / n : 0.0}};
}

std::unique_ptr<train::TrainTask> make_vilbert_grounding_task(Config& config, const TaskInputs& inputs) {
  if (config.data.train.empty()) fail("task vilbert-grounding: no training expressions (data.train: a JSONL file)");
  std::vector<GroundingRecord> train = read_grounding_jsonl(config.data.train.front());
  FtImages images(config.vilbert_ft.images);
  models::VilbertHeadSpec heads;
  heads.regions = true;
  FtModel built = build_ft_model(config, inputs, heads, images.feature_dim(), "vilbert-grounding");
  log::info("vilbert-grounding: {} expressions, {} images", train.size(), images.size());
  return std::make_unique<VilbertGroundingTask>(config, built, std::move(train), std::move(images));
}

nlohmann::json write_vilbert_grounding_batch(Config& config, const TaskInputs& inputs) {
  auto task = make_vilbert_grounding_task(config, inputs);
  Rng rng = train::initial_data_rng(config.trainer);
  GroundingBatch b = static_cast<VilbertGroundingTask&>(*task).next_batch(rng);
  nlohmann::json j = {{"task", "vilbert-grounding"}};
  ft_inputs_to_json(b.inputs, j);
  j["region_targets"] = float_tensor_json(b.region_targets);
  j["region_weights"] = float_tensor_json(b.region_weights);
  return j;
}

nlohmann::json vilbert_grounding_batch_loss(Config&, const TaskInputs& inputs, const nlohmann::json& j) {
  models::VilbertHeadSpec heads;
  heads.regions = true;
  FtModel m = load_ft_model_for_loss(inputs.init, heads);
  FtInputs in = ft_inputs_from_json(j, m.model->text_config, m.model->config);
  at::Tensor targets = float_tensor_from_json(j, "region_targets");
  at::Tensor weights = float_tensor_from_json(j, "region_weights");
  for (const auto& [t, key] : {std::pair{targets, "region_targets"}, std::pair{weights, "region_weights"}}) {
    if (t.sizes().vec() != in.image_mask.sizes().vec()) fail("batch: '{}' must have image_mask's shape", key);
    if (t.min().item<float>() < 0 || t.max().item<float>() > 1) fail("batch: '{}' must be in [0, 1]", key);
  }
  torch::NoGradGuard no_grad;
  const double loss = region_bce_loss(run_ft(*m.model, in).region_logits, targets, weights).item<double>();
  return {{"region_bce", loss}, {"total", loss}};
}

nlohmann::json finish_vilbert_grounding(Config& config, train::TrainTask& task, const std::string& checkpoint,
                                        const std::string&) {
  if (config.data.valid.empty()) return nullptr;
  const std::string dev = config.data.valid.front();
  nlohmann::json report = static_cast<VilbertGroundingTask&>(task).evaluate(read_grounding_jsonl(dev), dev);
  report["dev"] = dev;
  report["checkpoint"] = checkpoint;
  return report;
}

}  // namespace cotrain::tasks
