#include "cotrain/tasks/erica_task.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <numeric>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/io/hf_folder.h"
#include "cotrain/models/weights.h"
#include "cotrain/tasks/erica_shard.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

namespace {
constexpr uint64_t kEdStream = 0x6572696361ed;  // "erica" + ED
constexpr uint64_t kRdStream = 0x6572696361d0;  // "erica" + RD

EricaBatchOptions batch_options(const Config& c) {
  EricaBatchOptions o;
  o.max_length = c.data.max_length;
  o.mask_prob = c.data.mask_prob;
  o.mask = c.erica.mlm_weight > 0;
  o.max_na_pairs = c.erica.max_na_pairs;
  o.max_negatives = c.erica.max_negatives;
  o.pairs = parse_pair_kind(c.erica.rd_pairs);
  return o;
}
}  // namespace

EricaTask::EricaTask(const Config& config, models::TextModel model, EricaCorpus corpus)
    : config_(config), model_(std::move(model)), corpus_(std::move(corpus)), options_(batch_options(config_)),
      ed_stream_(corpus_.ed_docs, static_cast<uint64_t>(config_.trainer.seed), kEdStream),
      rd_stream_(corpus_.rd_docs, static_cast<uint64_t>(config_.trainer.seed), kRdStream) {}

std::vector<train::NamedParameter> EricaTask::parameters() {
  std::vector<train::NamedParameter> params;
  for (auto& item : model_.model->named_parameters(true))
    params.push_back({item.key(), item.value(), !train::is_no_decay_name(item.key()), 1.0});
  return params;
}

EricaBatch EricaTask::next_batch(Rng& rng) {
  std::vector<int64_t> ed, rd;
  for (int64_t i = 0; i < config_.erica.ed_docs; ++i) ed.push_back(ed_stream_.next());
  for (int64_t i = 0; i < config_.erica.rd_docs; ++i) rd.push_back(rd_stream_.next());
  return build_erica_batch(corpus_, ed, rd, *model_.tokenizer, options_, rng);
}

train::LossTerms EricaTask::next_loss(Rng& rng) {
  EricaBatch batch = next_batch(rng);
  EricaLosses losses = shard_count_ > 1
                           ? erica_losses_shared(model_.model, batch, config_.erica, shard_rank_, shard_count_)
                           : erica_losses(model_.model, batch, config_.erica);
  train::LossTerms terms;
  terms.terms["total"] = losses.total;
  terms.terms["mlm"] = losses.mlm.detach();
  terms.terms["ed"] = losses.ed.detach();
  terms.terms["rd"] = losses.rd.detach();
  terms.samples = static_cast<int64_t>(batch.rows.size());
  if (shard_count_ > 1) {  // this rank's rows r, r + W, ...
    const int64_t rows = terms.samples;
    terms.samples = rows / shard_count_ + (shard_rank_ < rows % shard_count_ ? 1 : 0);
  }
  terms.tokens = losses.tokens;
  return terms;
}

void EricaTask::set_data_shard(int64_t rank, int64_t world_size) {
  shard_rank_ = rank;
  shard_count_ = world_size;
}

nlohmann::json EricaTask::data_state() const { return {{"ed", ed_stream_.state()}, {"rd", rd_stream_.state()}}; }

void EricaTask::restore_data_state(const nlohmann::json& state) {
  if (!state.is_object() || !state.contains("ed") || !state.contains("rd"))
    fail("progress.json: the data state of task erica must hold 'ed' and 'rd'");
  ed_stream_.restore(state.at("ed"), "ed");
  rd_stream_.restore(state.at("rd"), "rd");
}

void EricaTask::save_model(const std::string& dir) { models::save_text_model(dir, model_); }

void EricaTask::load_model(const std::string& dir) {
  io::HfFolder folder = io::read_hf_folder(dir);
  models::load_weights(*model_.model, folder.weights, models::LoadMode::strict, dir);
}

// ------------------------------------------------------------------ factory

void validate_erica_config(const Config& config) {
  const EricaConfig& e = config.erica;
  auto check = [](bool ok, const char* key, const std::string& why) {
    if (!ok) fail("erica.{} {}", key, why);
  };
  check(e.ed_weight >= 0, "ed_weight", "must not be negative");
  check(e.rd_weight >= 0, "rd_weight", "must not be negative");
  check(e.mlm_weight >= 0, "mlm_weight", "must not be negative");
  check(e.ed_weight + e.rd_weight + e.mlm_weight > 0, "ed_weight", "+ rd_weight + mlm_weight must be positive");
  check(e.temperature > 0, "temperature", "must be positive");
  check(e.max_na_pairs >= 0, "max_na_pairs", "must not be negative");
  check(e.max_negatives >= 1, "max_negatives", "must be at least 1");
  check(e.ed_docs >= 0, "ed_docs", "must not be negative");
  check(e.rd_docs >= 0, "rd_docs", "must not be negative");
  check(e.ed_docs + e.rd_docs > 0, "ed_docs", "+ rd_docs must be positive");
  parse_pair_kind(e.rd_pairs);
  if (!e.on_bad_record.empty()) data::parse_on_bad_record(e.on_bad_record);
  if (config.data.max_length < 8) fail("data.max_length must be at least 8 for task erica, got {}", config.data.max_length);
}

namespace {

data::RelationNames relation_names_for(const Config& config) {
  std::string path = config.erica.relation_names;
  if (path.empty() && !config.data.train.empty()) {
    const auto beside = std::filesystem::path(config.data.train.front()).parent_path() / "rel_info.json";
    if (std::filesystem::exists(beside)) path = beside.string();
  }
  if (path.empty()) {
    if (config.erica.ed_weight > 0 && config.erica.ed_docs > 0)
      fail("task erica: entity discrimination needs relation names: set erica.relation_names to a {{id: name}} JSON "
           "(such as DocRED's rel_info.json), or put rel_info.json beside the training data, or set erica.ed_docs=0");
    return {};
  }
  log::info("relation names: {}", path);
  return data::read_relation_names_json(path);
}

models::TextModel model_for(Config& config, const TaskInputs& inputs) {
  models::TextModel model;
  if (!inputs.init.empty()) {
    model = models::load_text_model(inputs.init);
    config.model = model.config;  // the folder's architecture wins over presets
  } else {
    if (config.data.vocab.empty())
      fail("task erica: give --init DIR (a Hugging Face folder) or a vocabulary with --vocab / data.vocab");
    model = models::new_text_model(config.model, config.data.vocab, config.data.lowercase);
    config.model = model.config;
  }
  const int64_t position_limit = config.model.max_position_embeddings - (config.model.type == "roberta" ? 2 : 0);
  if (config.data.max_length > position_limit)
    fail("data.max_length ({}) exceeds what model.max_position_embeddings ({}) allows ({})", config.data.max_length,
         config.model.max_position_embeddings, position_limit);
  return model;
}

}  // namespace

std::unique_ptr<train::TrainTask> make_erica_task(Config& config, const TaskInputs& inputs) {
  validate_erica_config(config);
  models::TextModel model = model_for(config, inputs);
  if (config.data.train.empty()) fail("task erica: no training data (--data FILE or data.train)");
  const auto on_bad = data::parse_on_bad_record(config.erica.on_bad_record.empty() ? config.data.on_bad_record
                                                                                    : config.erica.on_bad_record);
  EricaCorpus corpus = read_erica_corpus(config.data.train, *model.tokenizer, config.data.max_length,
                                         relation_names_for(config), on_bad);
  log::info("erica corpus: {}", corpus.summary());
  if (config.erica.ed_docs > 0 && corpus.ed_docs.empty())
    fail("task erica: no document has a labelled triple whose relation has a name (ED); check erica.relation_names "
         "or set erica.ed_docs=0");
  if (config.erica.rd_docs > 0 && corpus.rd_docs.empty())
    fail("task erica: no document has a labelled entity pair (RD); set erica.rd_docs=0 to train without RD");
  return std::make_unique<EricaTask>(config, std::move(model), std::move(corpus));
}

EricaConfig erica_objective_of(const nlohmann::json& batch, const EricaConfig& config) {
  EricaConfig out = config;
  if (!batch.is_object() || !batch.contains("objective")) return out;
  const auto& o = batch.at("objective");
  auto number = [&](const char* key, double& field) {
    if (!o.contains(key)) return;
    if (!o.at(key).is_number()) fail("erica batch: objective.{} must be a number", key);
    field = o.at(key).get<double>();
  };
  number("temperature", out.temperature);
  number("ed_weight", out.ed_weight);
  number("rd_weight", out.rd_weight);
  number("mlm_weight", out.mlm_weight);
  if (out.temperature <= 0) fail("erica batch: objective.temperature must be positive");
  return out;
}

nlohmann::json write_erica_batch(Config& config, const TaskInputs& inputs) {
  auto task = make_erica_task(config, inputs);
  auto& erica = static_cast<EricaTask&>(*task);
  Rng rng = train::initial_data_rng(config.trainer);
  nlohmann::json j = erica_batch_to_json(erica.next_batch(rng));
  j["objective"] = {{"temperature", config.erica.temperature},
                    {"ed_weight", config.erica.ed_weight},
                    {"rd_weight", config.erica.rd_weight},
                    {"mlm_weight", config.erica.mlm_weight},
                    {"max_negatives", config.erica.max_negatives}};
  return j;
}

nlohmann::json erica_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& json_batch) {
  if (inputs.init.empty()) fail("loss --task erica: --model DIR is required");
  EricaBatch batch = erica_batch_from_json(json_batch);
  const EricaConfig objective = erica_objective_of(json_batch, config.erica);
  models::TextModel tm = models::load_text_model(inputs.init);
  tm.model->eval();
  EricaLosses losses = erica_losses(tm.model, batch, objective);
  return {{"mlm", losses.mlm.item<double>()},
          {"ed", losses.ed.item<double>()},
          {"rd", losses.rd.item<double>()},
          {"total", losses.total.item<double>()}};
}

}  // namespace cotrain::tasks
