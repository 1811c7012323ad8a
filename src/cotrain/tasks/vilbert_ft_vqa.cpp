#include "cotrain/tasks/vilbert_ft_vqa.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/tasks/vilbert_ft_losses.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

namespace fs = std::filesystem;

namespace {
constexpr const char* kAnswersFile = "answers.json";

std::vector<std::string> read_answers(const std::string& path) {
  nlohmann::json j = nlohmann::json::parse(read_whole_file(path), nullptr, false);
  if (j.is_discarded() || !j.is_array()) fail("{}: must be a JSON array of answers", path);
  std::vector<std::string> out;
  for (const auto& a : j) {
    if (!a.is_string()) fail("{}: answers must be strings", path);
    out.push_back(a.get<std::string>());
  }
  if (out.empty()) fail("{}: no answers", path);
  return out;
}
}  // namespace

std::vector<std::string> build_answer_vocabulary(const std::vector<VqaRecord>& records, int64_t min_count) {
  std::map<std::string, int64_t> count;
  for (const auto& r : records)
    for (const auto& [answer, score] : r.answers)
      if (score > 0) ++count[answer];
  std::vector<std::pair<std::string, int64_t>> kept;
  for (const auto& [answer, n] : count)
    if (n >= min_count) kept.emplace_back(answer, n);
  std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> out;
  for (const auto& [answer, n] : kept) out.push_back(answer);
  return out;
}

VilbertVqaTask::VilbertVqaTask(const Config& config, FtModel built, std::vector<std::string> answers,
                               std::vector<VqaRecord> train, FtImages images)
    : VilbertFtTask("vilbert-vqa", config, std::move(built), static_cast<int64_t>(train.size())),
      answers_(std::move(answers)),
      train_(std::move(train)),
      images_(std::move(images)) {
  for (size_t i = 0; i < answers_.size(); ++i) answer_index_.emplace(answers_[i], static_cast<int64_t>(i));
}

VqaBatch VilbertVqaTask::collate(const std::vector<const VqaRecord*>& records, const std::string& source) {
  const int64_t B = static_cast<int64_t>(records.size());
  std::vector<std::vector<int64_t>> texts;
  std::vector<FtImageRows> rows;
  rows.reserve(records.size());
  at::Tensor scores = at::zeros({B, static_cast<int64_t>(answers_.size())});
  auto s = scores.accessor<float, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const VqaRecord& r = *records[static_cast<size_t>(b)];
    const int64_t image = images_.find(r.image);
    if (image < 0) fail("{}: line {}: image '{}' is not in {}", source, r.line, r.image, images_.path());
    texts.push_back(encode_ft_text(*tokenizer_, r.question, config_.data.max_length));
    rows.push_back(image_rows(images_.image(image), config_.vilbert.max_regions));
    for (const auto& [answer, score] : r.answers)
      if (auto it = answer_index_.find(answer); it != answer_index_.end())
        s[b][it->second] = std::max(s[b][it->second], static_cast<float>(score));
  }
  std::vector<const FtImageRows*> ptrs;
  for (const auto& r : rows) ptrs.push_back(&r);
  VqaBatch batch;
  batch.inputs = collate_ft_inputs(texts, ptrs, tokenizer_->specials(), config_.vilbert.v_feature_size);
  batch.answer_scores = scores;
  return batch;
}

VqaBatch VilbertVqaTask::next_batch(Rng&) {
  std::vector<const VqaRecord*> records;
  for (int64_t b = 0; b < config_.trainer.batch_size; ++b) records.push_back(&train_[static_cast<size_t>(order_.next())]);
  return collate(records, config_.data.train.front());
}

train::LossTerms VilbertVqaTask::next_loss(Rng& rng) {
  VqaBatch batch = next_batch(rng);
  auto out = run_ft(*model_, batch.inputs);
  train::LossTerms terms;
  terms.terms["total"] = answer_bce_loss(out.answer_logits, batch.answer_scores);
  terms.samples = batch.inputs.input_ids.size(0);
  terms.tokens = batch.inputs.attention_mask.sum().item<int64_t>();
  return terms;
}

void VilbertVqaTask::save_model(const std::string& dir) {
  VilbertFtTask::save_model(dir);
  write_file_atomically((fs::path(dir) / kAnswersFile).string(), nlohmann::json(answers_).dump(1) + "\n");
}

nlohmann::json VilbertVqaTask::evaluate(const std::vector<VqaRecord>& records, const std::string& source,
                                        const std::string& predictions_path) {
  torch::NoGradGuard no_grad;
  model_->eval();
  double score_sum = 0;
  std::ofstream predictions;
  if (!predictions_path.empty()) predictions.open(predictions_path);
  const size_t step = static_cast<size_t>(std::max<int64_t>(config_.trainer.batch_size, 1));
  for (size_t start = 0; start < records.size(); start += step) {
    std::vector<const VqaRecord*> chunk;
    for (size_t i = start; i < std::min(records.size(), start + step); ++i) chunk.push_back(&records[i]);
    VqaBatch batch = collate(chunk, source);
    at::Tensor logits = run_ft(*model_, batch.inputs).answer_logits;
    score_sum += answer_soft_score_sum(logits, batch.answer_scores);
    if (predictions) {
      at::Tensor best = logits.argmax(1);
      for (size_t i = 0; i < chunk.size(); ++i)
        predictions << nlohmann::json{{"line", chunk[i]->line},
                                      {"image", chunk[i]->image},
                                      {"answer", answers_[static_cast<size_t>(best[static_cast<int64_t>(i)].item<int64_t>())]}}
                           .dump()
                    << "\n";
    }
  }
  model_->train();
  const double n = static_cast<double>(records.size());
  return {{"questions", records.size()}, {"accuracy", n > 0 ? score_sum / n : 0.0}};
}

namespace {
struct VqaData {
  std::vector<VqaRecord> train;
  std::vector<std::string> answers;
};

VqaData read_vqa_data(const Config& config, const TaskInputs& inputs) {
  if (config.data.train.empty()) fail("task vilbert-vqa: no training questions (data.train: a JSONL file)");
  VqaData d;
  d.train = read_vqa_jsonl(config.data.train.front());
  const std::string kept = inputs.init.empty() ? "" : (fs::path(inputs.init) / kAnswersFile).string();
  if (!kept.empty() && fs::exists(kept)) {
    d.answers = read_answers(kept);
  } else {
    d.answers = build_answer_vocabulary(d.train, config.vilbert_ft.min_answer_count);
    if (d.answers.empty())
      fail("{}: no answer is seen in {} questions (vilbert_ft.min_answer_count)", config.data.train.front(),
           config.vilbert_ft.min_answer_count);
  }
  return d;
}
}  // namespace

std::unique_ptr<train::TrainTask> make_vilbert_vqa_task(Config& config, const TaskInputs& inputs) {
  VqaData d = read_vqa_data(config, inputs);
  FtImages images(config.vilbert_ft.images);
  models::VilbertHeadSpec heads;
  heads.answers = static_cast<int64_t>(d.answers.size());
  heads.answer_dropout = config.vilbert_ft.head_dropout;
  FtModel built = build_ft_model(config, inputs, heads, images.feature_dim(), "vilbert-vqa");
  log::info("vilbert-vqa: {} questions, {} answers, {} images", d.train.size(), d.answers.size(), images.size());
  return std::make_unique<VilbertVqaTask>(config, built, std::move(d.answers), std::move(d.train), std::move(images));
}

nlohmann::json write_vilbert_vqa_batch(Config& config, const TaskInputs& inputs) {
  auto task = make_vilbert_vqa_task(config, inputs);
  auto& t = static_cast<VilbertVqaTask&>(*task);
  Rng rng = train::initial_data_rng(config.trainer);
  VqaBatch b = t.next_batch(rng);
  nlohmann::json j = {{"task", "vilbert-vqa"}};
  ft_inputs_to_json(b.inputs, j);
  j["answer_scores"] = float_tensor_json(b.answer_scores);
  return j;
}

nlohmann::json vilbert_vqa_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& j) {
  models::VilbertHeadSpec heads;
  heads.answers = -1;  // as the folder's answer head says
  heads.answer_dropout = config.vilbert_ft.head_dropout;
  FtModel m = load_ft_model_for_loss(inputs.init, heads);
  FtInputs in = ft_inputs_from_json(j, m.model->text_config, m.model->config);
  at::Tensor scores = float_tensor_from_json(j, "answer_scores");
  const int64_t A = m.model->heads.answers;
  if (scores.sizes().vec() != std::vector<int64_t>{in.input_ids.size(0), A})
    fail("batch: 'answer_scores' must be [{}, {}] (questions x the model's answers)", in.input_ids.size(0), A);
  if (scores.min().item<float>() < 0 || scores.max().item<float>() > 1) fail("batch: 'answer_scores' must be in [0, 1]");
  torch::NoGradGuard no_grad;
  const double loss = answer_bce_loss(run_ft(*m.model, in).answer_logits, scores).item<double>();
  return {{"answer_bce", loss}, {"total", loss}};
}

nlohmann::json finish_vilbert_vqa(Config& config, train::TrainTask& task, const std::string& checkpoint,
                                  const std::string& run_dir) {
  if (config.data.valid.empty()) return nullptr;
  auto& t = static_cast<VilbertVqaTask&>(task);
  const std::string dev = config.data.valid.front();
  nlohmann::json report = t.evaluate(read_vqa_jsonl(dev), dev, (fs::path(run_dir) / "vqa-dev-predictions.jsonl").string());
  report["dev"] = dev;
  report["checkpoint"] = checkpoint;
  report["answers"] = t.answers().size();
  return report;
}

}  // namespace cotrain::tasks
