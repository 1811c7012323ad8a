#include "cotrain/tasks/docred_task.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/io/hf_folder.h"
#include "cotrain/models/weights.h"
#include "cotrain/tasks/docred_eval.h"
#include "cotrain/tasks/docred_predict.h"
#include "cotrain/train/checkpoint.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

namespace {
constexpr uint64_t kDocStream = 0x646f63726564;  // "docred"
constexpr const char* kMlmHead = "encoder.cls.";
constexpr const char* kPooler = "encoder.bert.pooler";

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

DocredTask::DocredTask(const Config& config, models::TextModel text_model, DocredReModel model, DocredReCorpus corpus,
                       std::vector<int64_t> train_docs)
    : config_(config), text_model_(std::move(text_model)), model_(std::move(model)), corpus_(std::move(corpus)),
      stream_(std::move(train_docs), static_cast<uint64_t>(config_.trainer.seed), kDocStream) {}

std::vector<train::NamedParameter> DocredTask::parameters() {
  // The MLM head and the pooler take no part in the loss; leaving them out keeps
  // weight decay from shrinking them for nothing.
  std::vector<train::NamedParameter> params;
  for (auto& item : model_->named_parameters(true))
    if (!starts_with(item.key(), kMlmHead) && !starts_with(item.key(), kPooler))
      params.push_back({item.key(), item.value(), !train::is_no_decay_name(item.key()), 1.0});
  return params;
}

DocredBatch DocredTask::next_batch(Rng& rng) {
  std::vector<int64_t> docs;
  for (int64_t i = 0; i < config_.trainer.batch_size; ++i) docs.push_back(stream_.next());
  return build_docred_train_batch(corpus_, docs, *text_model_.tokenizer, config_.docred.na_ratio, rng);
}

train::LossTerms DocredTask::next_loss(Rng& rng) {
  DocredBatch batch = next_batch(rng);
  at::Tensor logits = model_->forward(batch);
  train::LossTerms terms;
  terms.terms["total"] = docred_loss(logits, batch.pairs);
  terms.samples = static_cast<int64_t>(batch.rows.size());
  for (const auto& r : batch.rows) terms.tokens += static_cast<int64_t>(r.size());
  return terms;
}

void DocredTask::save_model(const std::string& dir) {
  models::save_text_model(dir, text_model_);
  save_docred_head(dir, model_->head, {corpus_.relations, config_.data.max_length});
}

void DocredTask::load_model(const std::string& dir) {
  io::HfFolder folder = io::read_hf_folder(dir);
  models::load_weights(*model_->encoder, folder.weights, models::LoadMode::strict, dir);
  load_docred_head(dir, model_->head);
}

// ------------------------------------------------------------------ factory

void validate_docred_config(const Config& config) {
  const DocredConfig& d = config.docred;
  if (!(d.train_fraction > 0 && d.train_fraction <= 1))
    fail("docred.train_fraction must be in (0, 1] (e.g. 0.01, 0.1, 1), got {}", d.train_fraction);
  if (!(d.na_ratio >= 0)) fail("docred.na_ratio must not be negative, got {}", d.na_ratio);
  if (!d.on_bad_record.empty()) data::parse_on_bad_record(d.on_bad_record);
  if (config.trainer.batch_size < 1) fail("trainer.batch_size (documents per micro-batch) must be at least 1");
  if (config.data.max_length < 8) fail("data.max_length must be at least 8 for task docred, got {}", config.data.max_length);
}

namespace {

data::OnBadRecord on_bad_record_of(const Config& config) {
  return data::parse_on_bad_record(config.docred.on_bad_record.empty() ? config.data.on_bad_record
                                                                      : config.docred.on_bad_record);
}

}  // namespace

std::unique_ptr<train::TrainTask> make_docred_task(Config& config, const TaskInputs& inputs) {
  validate_docred_config(config);
  if (inputs.init.empty()) fail("task docred: --init DIR (a pretrained encoder: Hugging Face folder or checkpoint) is required");
  if (config.data.train.empty()) fail("task docred: no training data (--data FILE or data.train)");
  const std::string init = train::resolve_model_dir(inputs.init);
  models::TextModel tm = models::load_text_model(init);
  config.model = tm.config;
  const int64_t position_limit = config.model.max_position_embeddings - (config.model.type == "roberta" ? 2 : 0);
  if (config.data.max_length > position_limit)
    fail("data.max_length ({}) exceeds what model.max_position_embeddings ({}) allows ({})", config.data.max_length,
         config.model.max_position_embeddings, position_limit);
  const bool resume_head = has_docred_head(init);

  std::vector<data::Document> docs;
  for (const auto& file : config.data.train) {
    data::DocredReadOptions options;
    options.on_bad_record = on_bad_record_of(config);
    data::DocredReadReport report;
    auto part = data::read_docred(file, options, &report);
    log::info("{}: {}", file, report.summary());
    for (const auto& reason : report.first_reasons) log::warn("skipped: {}", reason);
    docs.insert(docs.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  DocredRelations relations;
  if (resume_head)
    relations = read_docred_head_info(init).relations;
  else if (!config.docred.relations.empty())
    relations = relations_of_names(data::read_relation_names_json(config.docred.relations));
  else
    relations = relations_of_labels(docs);
  if (relations.ids.empty()) fail("task docred: no relation classes (the training documents have no labels)");
  DocredReCorpus corpus = prepare_docred_corpus(std::move(docs), *tm.tokenizer, config.data.max_length, relations);
  log::info("docred corpus: {}", corpus.summary());

  std::vector<int64_t> used;
  const auto subset = docred_train_subset(static_cast<int64_t>(corpus.docs.size()), config.docred.train_fraction,
                                          static_cast<uint64_t>(config.trainer.seed));
  for (int64_t d : subset)
    if (!corpus.docs[static_cast<size_t>(d)].positives.empty()) used.push_back(d);
  log::info("docred: training on {} of {} documents (train_fraction {}, {} without a known labelled pair left out)",
            used.size(), corpus.docs.size(), config.docred.train_fraction, subset.size() - used.size());
  if (used.empty()) fail("task docred: no training document has a labelled entity pair");

  DocredReModel model(tm.model, relations.num_classes());
  if (resume_head) load_docred_head(init, model->head);
  return std::make_unique<DocredTask>(config, std::move(tm), std::move(model), std::move(corpus), std::move(used));
}

nlohmann::json write_docred_batch(Config& config, const TaskInputs& inputs) {
  auto task = make_docred_task(config, inputs);
  auto& docred = static_cast<DocredTask&>(*task);
  Rng rng = train::initial_data_rng(config.trainer);
  nlohmann::json j = docred_batch_to_json(docred.next_batch(rng));
  j["relations"] = docred.corpus().relations.ids;
  j["objective"] = {{"loss", "bce"}, {"na_ratio", config.docred.na_ratio}};
  return j;
}

nlohmann::json docred_batch_loss(Config& /*config*/, const TaskInputs& inputs, const nlohmann::json& json_batch) {
  if (inputs.init.empty()) fail("loss --task docred: --model DIR is required");
  DocredBatch batch = docred_batch_from_json(json_batch);
  DocredModelFolder folder = load_docred_model(inputs.init);
  folder.model->eval();
  at::Tensor logits = folder.model->forward(batch);
  return {{"bce", docred_loss(logits, batch.pairs).item<double>()}};
}

// ------------------------------------------------------------------ after training

DocredModelFolder load_docred_model(const std::string& path) {
  const std::string dir = train::resolve_model_dir(path);
  if (!has_docred_head(dir))
    fail("{}: no {} (a model folder written by 'cotrain finetune --task docred' is needed)", dir, kDocredHeadWeights);
  DocredModelFolder f;
  f.info = read_docred_head_info(dir);
  f.text_model = models::load_text_model(dir);
  f.model = DocredReModel(f.text_model.model, f.info.relations.num_classes());
  load_docred_head(dir, f.model->head);
  f.threshold = read_docred_threshold(dir);
  return f;
}

nlohmann::json finish_docred(Config& config, train::TrainTask& task, const std::string& checkpoint,
                             const std::string& run_dir) {
  auto& t = static_cast<DocredTask&>(task);
  if (config.docred.dev.empty()) {
    log::warn("docred: no docred.dev: no threshold chosen, no predictions written");
    return nullptr;
  }
  const auto train_facts = eval::docred_train_facts(docred_gold_documents(t.corpus().source));
  const auto on_bad = on_bad_record_of(config);
  const int64_t per_batch = config.trainer.batch_size;
  auto corpus_of = [&](const std::string& path) {
    return read_docred_corpus({path}, t.tokenizer(), t.max_length(), t.corpus().relations, on_bad);
  };
  const DocredReCorpus dev = corpus_of(config.docred.dev);
  const auto dev_candidates = score_docred_corpus(t.model(), dev, t.tokenizer(), per_batch);
  const DocredThreshold theta = choose_docred_threshold(dev_candidates, dev);
  write_docred_threshold(checkpoint, theta);
  write_docred_threshold(run_dir, theta);
  log::info("docred: threshold {} (dev F1 {:.4f} at it)", theta.threshold, theta.f1);

  nlohmann::json report = {{"task", "docred"}, {"threshold", theta.threshold}, {"model", checkpoint}};
  const std::string dev_out = (std::filesystem::path(run_dir) / "dev_predictions.json").string();
  const DocredFileResult d = evaluate_docred_corpus(dev_candidates, dev, theta.threshold, &train_facts, dev_out);
  report["dev"] = docred_score_json(d.score, true);
  report["dev"]["file"] = dev_out;
  if (!config.docred.test.empty()) {
    const DocredReCorpus test = corpus_of(config.docred.test);
    const auto candidates = score_docred_corpus(t.model(), test, t.tokenizer(), per_batch);
    const std::string test_out = (std::filesystem::path(run_dir) / "test_predictions.json").string();
    const DocredFileResult r = evaluate_docred_corpus(candidates, test, theta.threshold, &train_facts, test_out);
    report["test"] = r.labelled ? docred_score_json(r.score, true) : nlohmann::json::object();
    report["test"]["file"] = test_out;
    report["test"]["labelled"] = r.labelled;
  }
  return report;
}

nlohmann::json evaluate_docred_model(const std::string& model_dir, const std::string& gold_path,
                                     const std::string& train_path, double threshold, const std::string& out,
                                     int64_t docs_per_batch) {
  DocredModelFolder folder = load_docred_model(model_dir);
  const std::string folder_dir = train::resolve_model_dir(model_dir);
  const DocredReCorpus gold = read_docred_corpus({gold_path}, *folder.text_model.tokenizer, folder.info.max_length,
                                                 folder.info.relations, data::OnBadRecord::fail);
  const auto candidates = score_docred_corpus(folder.model, gold, *folder.text_model.tokenizer, docs_per_batch);
  std::string source = "--threshold";
  if (threshold < 0 && folder.threshold >= 0) {
    threshold = folder.threshold;
    source = (std::filesystem::path(folder_dir) / kDocredThresholdFile).string();
  } else if (threshold < 0) {
    if (!docred_has_labels(gold))
      fail("eval --task docred: {} has no {} and {} no labels: give --threshold", model_dir, kDocredThresholdFile, gold_path);
    threshold = choose_docred_threshold(candidates, gold).threshold;
    source = "best on --gold";
    log::warn("docred: {} has no {}: the threshold is the best one on {} itself", model_dir, kDocredThresholdFile, gold_path);
  }
  eval::DocredTrainFacts train_facts;
  if (!train_path.empty()) train_facts = eval::docred_train_facts(docred_gold_documents(data::read_docred(train_path)));
  const DocredFileResult r = evaluate_docred_corpus(candidates, gold, threshold, train_path.empty() ? nullptr : &train_facts, out);
  nlohmann::json j = r.labelled ? docred_score_json(r.score, !train_path.empty()) : nlohmann::json::object();
  j["task"] = "docred";
  j["threshold"] = threshold;
  j["threshold_from"] = source;
  j["labelled"] = r.labelled;
  j["predicted"] = r.predictions.size();
  if (!out.empty()) j["out"] = out;
  return j;
}

}  // namespace cotrain::tasks
