#include "cotrain/tasks/relcls_task.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <filesystem>
#include <fstream>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/eval/relcls_metric.h"
#include "cotrain/io/hf_folder.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/models/weights.h"
#include "cotrain/tasks/docred_re_data.h"
#include "cotrain/tasks/erica_losses.h"
#include "cotrain/train/checkpoint.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

namespace {
constexpr uint64_t kRelclsStream = 0x72656c636c73;  // "relcls"
constexpr const char* kHeadWeights = "relcls_head.safetensors";
constexpr const char* kHeadInfo = "relcls_head.json";
}  // namespace

RelclsModelImpl::RelclsModelImpl(models::BertForMaskedLM bert, int64_t num_classes) {
  encoder = register_module("encoder", std::move(bert));
  classifier = register_module("classifier", torch::nn::Linear(2 * encoder->config.hidden_size, num_classes));
}

at::Tensor RelclsModelImpl::forward(const std::vector<const RelclsExample*>& examples, int64_t pad_id) {
  const int64_t V = encoder->config.vocab_size;
  size_t width = 0;
  for (const auto* e : examples) width = std::max(width, e->ids.size());
  const auto B = static_cast<int64_t>(examples.size()), T = static_cast<int64_t>(width);
  if (B == 0) fail("relcls: empty micro-batch");
  std::vector<int64_t> ids(static_cast<size_t>(B * T), pad_id), mask(static_cast<size_t>(B * T), 0);
  std::vector<EricaEntity> spans;
  for (int64_t b = 0; b < B; ++b) {
    const RelclsExample& ex = *examples[static_cast<size_t>(b)];
    if (!ex.fits) fail("relcls: an example whose entity does not fit in data.max_length reached the model");
    for (size_t t = 0; t < ex.ids.size(); ++t) {
      if (ex.ids[t] < 0 || ex.ids[t] >= V) fail("relcls: token id {} outside the vocabulary of {}", ex.ids[t], V);
      ids[static_cast<size_t>(b * T) + t] = ex.ids[t];
      mask[static_cast<size_t>(b * T) + t] = 1;
    }
    spans.push_back({b, 0, {ex.h}});
    spans.push_back({b, 1, {ex.t}});
  }
  const auto device = encoder->bert->embeddings->word_embeddings->weight.device();
  auto matrix = [&](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong).view({B, T}).to(device); };
  at::Tensor input_ids = matrix(ids);
  at::Tensor hidden = encoder->bert->forward(input_ids, matrix(mask), at::zeros_like(input_ids));
  at::Tensor pooled = pool_entities(hidden, spans).view({B, -1});  // [h ; t] per example
  return classifier->forward(pooled);
}

RelclsTask::RelclsTask(const Config& config, models::TextModel text_model, std::vector<std::string> classes,
                       std::vector<RelclsExample> train, std::vector<int64_t> used)
    : config_(config), text_model_(std::move(text_model)),
      model_(text_model_.model, static_cast<int64_t>(classes.size())), classes_(std::move(classes)),
      train_(std::move(train)), stream_(std::move(used), static_cast<uint64_t>(config_.trainer.seed), kRelclsStream) {}

std::vector<train::NamedParameter> RelclsTask::parameters() {
  std::vector<train::NamedParameter> params;
  for (auto& item : model_->named_parameters(true))
    if (item.key().rfind("encoder.cls.", 0) != 0 && item.key().rfind("encoder.bert.pooler", 0) != 0)
      params.push_back({item.key(), item.value(), !train::is_no_decay_name(item.key()), 1.0});
  return params;
}

train::LossTerms RelclsTask::next_loss(Rng& /*rng*/) {
  std::vector<const RelclsExample*> batch;
  std::vector<int64_t> labels;
  train::LossTerms terms;
  for (int64_t i = 0; i < config_.trainer.batch_size; ++i) {
    const RelclsExample& ex = train_[static_cast<size_t>(stream_.next())];
    batch.push_back(&ex);
    labels.push_back(ex.label);
    terms.tokens += static_cast<int64_t>(ex.ids.size());
  }
  at::Tensor logits = model_->forward(batch, text_model_.tokenizer->specials().pad);
  terms.terms["total"] = at::cross_entropy_loss(logits, at::tensor(labels, at::kLong).to(logits.device()));
  terms.samples = static_cast<int64_t>(batch.size());
  return terms;
}

void RelclsTask::save_model(const std::string& dir) {
  models::save_text_model(dir, text_model_);
  io::save_safetensors((std::filesystem::path(dir) / kHeadWeights).string(), models::weights_of(*model_->classifier));
  const nlohmann::json info = {{"relations", classes_}, {"na_label", config_.relcls.na_label},
                               {"max_length", config_.data.max_length}};
  write_file_atomically((std::filesystem::path(dir) / kHeadInfo).string(), info.dump(1) + "\n");
}

void RelclsTask::load_model(const std::string& dir) {
  io::HfFolder folder = io::read_hf_folder(dir);
  models::load_weights(*model_->encoder, folder.weights, models::LoadMode::strict, dir);
  const std::string path = (std::filesystem::path(dir) / kHeadWeights).string();
  models::load_weights(*model_->classifier, io::load_safetensors(path).tensors, models::LoadMode::strict, path);
}

nlohmann::json RelclsTask::evaluate_file(const std::string& path, const std::string& out) {
  const auto raw = read_relcls_jsonl(path, data::OnBadRecord::fail);
  const auto na_it = std::lower_bound(classes_.begin(), classes_.end(), config_.relcls.na_label);
  const int64_t na = na_it != classes_.end() && *na_it == config_.relcls.na_label ? na_it - classes_.begin() : -1;
  std::vector<RelclsExample> examples;
  for (const auto& r : raw) examples.push_back(prepare_relcls_example(r, *text_model_.tokenizer, config_.data.max_length, classes_));
  // An example that does not fit is predicted NA (or, without an NA class, wrong).
  std::vector<int64_t> predicted(examples.size(), na >= 0 ? na : -2), gold;
  for (const auto& e : examples) gold.push_back(e.label);  // unknown relations (-1) are always wrong
  model_->eval();
  {
    torch::NoGradGuard no_grad;
    std::vector<size_t> chunk;
    auto flush = [&] {
      if (chunk.empty()) return;
      std::vector<const RelclsExample*> batch;
      for (size_t i : chunk) batch.push_back(&examples[i]);
      at::Tensor best = model_->forward(batch, text_model_.tokenizer->specials().pad).argmax(1).to(at::kCPU);
      for (size_t k = 0; k < chunk.size(); ++k) predicted[chunk[k]] = best[static_cast<int64_t>(k)].item<int64_t>();
      chunk.clear();
    };
    for (size_t i = 0; i < examples.size(); ++i) {
      if (!examples[i].fits) continue;
      chunk.push_back(i);
      if (static_cast<int64_t>(chunk.size()) == config_.trainer.batch_size) flush();
    }
    flush();
  }
  model_->train();
  const eval::RelclsScore s = eval::score_relcls(gold, predicted, na);
  if (!out.empty()) {
    std::string lines;
    for (int64_t p : predicted)
      lines += nlohmann::json{{"relation", p >= 0 ? classes_[static_cast<size_t>(p)] : std::string()}}.dump() + "\n";
    write_file_atomically(out, lines);
  }
  int64_t unfit = 0;
  for (const auto& e : examples) unfit += e.fits ? 0 : 1;
  return {{"examples", s.examples}, {"accuracy", s.accuracy}, {"precision", s.precision}, {"recall", s.recall},
          {"micro_f1", s.micro_f1}, {"not_fitting", unfit}, {"file", path}};
}

std::unique_ptr<train::TrainTask> make_relcls_task(Config& config, const TaskInputs& inputs) {
  if (inputs.init.empty()) fail("task relcls: --init DIR (a pretrained encoder) is required");
  if (config.data.train.empty()) fail("task relcls: no training data (--data FILE.jsonl or data.train)");
  if (config.trainer.batch_size < 1) fail("trainer.batch_size must be at least 1");
  const auto on_bad = data::parse_on_bad_record(config.relcls.on_bad_record.empty() ? config.data.on_bad_record
                                                                                    : config.relcls.on_bad_record);
  const std::string init = train::resolve_model_dir(inputs.init);
  models::TextModel tm = models::load_text_model(init);
  config.model = tm.config;
  if (config.data.max_length > config.model.max_position_embeddings)
    fail("data.max_length ({}) exceeds model.max_position_embeddings ({})", config.data.max_length,
         config.model.max_position_embeddings);
  std::vector<RelclsRaw> raw;
  for (const auto& f : config.data.train) {
    auto part = read_relcls_jsonl(f, on_bad);
    raw.insert(raw.end(), part.begin(), part.end());
  }
  std::vector<std::string> classes = relcls_classes(raw);
  if (classes.size() < 2) fail("task relcls: the training data has {} relation(s); at least 2 are needed", classes.size());
  std::vector<RelclsExample> examples;
  for (const auto& r : raw) examples.push_back(prepare_relcls_example(r, *tm.tokenizer, config.data.max_length, classes));
  std::vector<int64_t> used;
  for (int64_t i : docred_train_subset(static_cast<int64_t>(examples.size()), config.relcls.train_fraction,
                                       static_cast<uint64_t>(config.trainer.seed)))
    if (examples[static_cast<size_t>(i)].fits) used.push_back(i);
  log::info("relcls: {} classes, training on {} of {} examples (train_fraction {})", classes.size(), used.size(),
            examples.size(), config.relcls.train_fraction);
  if (used.empty()) fail("task relcls: no training example fits in data.max_length");
  return std::make_unique<RelclsTask>(config, std::move(tm), std::move(classes), std::move(examples), std::move(used));
}

nlohmann::json finish_relcls(Config& config, train::TrainTask& task, const std::string& /*checkpoint*/,
                             const std::string& run_dir) {
  auto& t = static_cast<RelclsTask&>(task);
  nlohmann::json report = {{"task", "relcls"}};
  if (!config.relcls.dev.empty())
    report["dev"] = t.evaluate_file(config.relcls.dev, (std::filesystem::path(run_dir) / "dev_predictions.jsonl").string());
  if (!config.relcls.test.empty())
    report["test"] = t.evaluate_file(config.relcls.test, (std::filesystem::path(run_dir) / "test_predictions.jsonl").string());
  return report.size() > 1 ? report : nlohmann::json();
}

}  // namespace cotrain::tasks
