#include "cotrain/tasks/mlm_task.h"

#include <ATen/ATen.h>

#include <numeric>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/data/mlm_masking.h"
#include "cotrain/dist/process_group.h"
#include "cotrain/models/weights.h"
#include "cotrain/io/hf_folder.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

namespace {
// Seed stream of the sequence order (unchanged since the first release of the task).
constexpr uint64_t kOrderStream = 0x6f72646572;
}  // namespace

MlmBatch make_mlm_batch(const std::vector<const std::vector<int64_t>*>& sequences, const text::Tokenizer& tokenizer,
                        double mask_prob, Rng& rng) {
  const auto& sp = tokenizer.specials();
  data::MaskingOptions masking;
  masking.mask_prob = mask_prob;
  masking.mask_id = sp.mask;
  masking.vocab_size = tokenizer.vocab_size();
  size_t longest = 0;
  for (const auto* s : sequences) longest = std::max(longest, s->size() + 2);
  const int64_t B = static_cast<int64_t>(sequences.size()), T = static_cast<int64_t>(longest);
  std::vector<int64_t> ids(static_cast<size_t>(B * T), sp.pad), labels(static_cast<size_t>(B * T), data::kIgnoreLabel),
      attention(static_cast<size_t>(B * T), 0);
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int64_t> row;
    row.reserve(sequences[b]->size() + 2);
    row.push_back(sp.cls);
    row.insert(row.end(), sequences[b]->begin(), sequences[b]->end());
    row.push_back(sp.sep);
    std::vector<bool> maskable(row.size(), true);
    maskable.front() = maskable.back() = false;
    std::vector<int64_t> row_labels = data::mask_tokens(row, maskable, masking, rng);
    for (size_t t = 0; t < row.size(); ++t) {
      ids[static_cast<size_t>(b * T) + t] = row[t];
      labels[static_cast<size_t>(b * T) + t] = row_labels[t];
      attention[static_cast<size_t>(b * T) + t] = 1;
    }
  }
  auto to_tensor = [&](std::vector<int64_t>& v) { return at::tensor(v, at::kLong).view({B, T}); };
  MlmBatch batch;
  batch.input_ids = to_tensor(ids);
  batch.attention_mask = to_tensor(attention);
  batch.labels = to_tensor(labels);
  batch.token_type_ids = at::zeros({B, T}, at::kLong);
  return batch;
}

MlmTask::MlmTask(const Config& config, models::TextModel model, data::TextCorpus corpus)
    : config_(config),
      model_(std::move(model)),
      corpus_(std::move(corpus)),
      order_(data::EpochOrder::over(static_cast<int64_t>(corpus_.sequences.size()),
                                    static_cast<uint64_t>(config_.trainer.seed), kOrderStream)) {}

std::vector<train::NamedParameter> MlmTask::parameters() {
  std::vector<train::NamedParameter> params;
  for (auto& item : model_.model->named_parameters(true))
    params.push_back({item.key(), item.value(), !train::is_no_decay_name(item.key()), 1.0});
  return params;
}

MlmBatch MlmTask::next_batch(Rng& rng) {
  std::vector<const std::vector<int64_t>*> picked;
  const int64_t B = config_.trainer.batch_size;
  while (static_cast<int64_t>(picked.size()) < B)
    picked.push_back(&corpus_.sequences[static_cast<size_t>(order_.next())]);
  return make_mlm_batch(picked, *model_.tokenizer, config_.data.mask_prob, rng);
}

void MlmTask::set_data_shard(int64_t rank, int64_t world_size) {
  if (config_.trainer.batch_size % world_size != 0)
    fail("trainer.batch_size ({}) must be a multiple of the number of processes ({}): it is the global batch, "
         "split evenly over the processes", config_.trainer.batch_size, world_size);
  shard_rank_ = rank;
  shard_count_ = world_size;
}

train::LossTerms MlmTask::next_loss(Rng& rng) {
  int64_t B = config_.trainer.batch_size;
  MlmBatch batch = next_batch(rng);
  if (shard_count_ > 1) {
    // Every rank draws the whole global batch (same order, same masks: the Rng moves
    // exactly as in one process) and keeps its rows; the padded width stays the
    // global one. Building the batch is cheap next to the model.
    at::Tensor rows = at::arange(shard_rank_, B, shard_count_, at::kLong);
    for (at::Tensor* t : {&batch.input_ids, &batch.attention_mask, &batch.token_type_ids, &batch.labels})
      *t = t->index_select(0, rows);
    B = rows.size(0);
  }
  auto out = model_.model->forward(batch.input_ids, batch.attention_mask, batch.token_type_ids, batch.labels);
  at::Tensor loss = out.loss;
  if (shard_count_ > 1) {
    // The loss is a mean over the predicted tokens of the GLOBAL batch: this rank's
    // share is its mean times its count over the global count.
    at::Tensor counts = at::tensor(std::vector<double>{(batch.labels != data::kIgnoreLabel).sum().item<double>()});
    const double local = counts.item<double>();
    dist::world().all_reduce_sum(counts);
    const double global = counts.item<double>();
    if (local > 0) loss = loss * (local / global);
  }
  train::LossTerms losses;
  losses.terms["total"] = loss;
  losses.terms["mlm"] = loss.detach();
  losses.samples = B;
  losses.tokens = batch.attention_mask.sum().item<int64_t>();
  return losses;
}

nlohmann::json MlmTask::data_state() const { return order_.state(); }

void MlmTask::restore_data_state(const nlohmann::json& state) { order_.restore(state, "mlm"); }

void MlmTask::save_model(const std::string& dir) { models::save_text_model(dir, model_); }

void MlmTask::load_model(const std::string& dir) {
  io::HfFolder folder = io::read_hf_folder(dir);
  models::load_weights(*model_.model, folder.weights, models::LoadMode::strict, dir);
}

std::unique_ptr<train::TrainTask> make_mlm_task(Config& config, const TaskInputs& inputs) {
  models::TextModel model;
  if (!inputs.init.empty()) {
    model = models::load_text_model(inputs.init);
    config.model = model.config;  // the folder's architecture wins over presets
  } else {
    if (config.data.vocab.empty())
      fail("task mlm: give --init DIR (a Hugging Face folder) or a vocabulary with --vocab / data.vocab "
           "(train one with 'cotrain vocab')");
    model = models::new_text_model(config.model, config.data.vocab, config.data.lowercase);
    config.model = model.config;
  }
  const int64_t position_limit = config.model.max_position_embeddings - (config.model.type == "roberta" ? 2 : 0);
  if (config.data.max_length > position_limit)
    fail("data.max_length ({}) exceeds what model.max_position_embeddings ({}) allows ({})", config.data.max_length,
         config.model.max_position_embeddings, position_limit);
  if (config.data.train.empty()) fail("task mlm: no training data (--data FILE or data.train)");
  data::TextCorpusOptions corpus_options;
  corpus_options.max_tokens = config.data.max_length - 2;
  corpus_options.skip_bad_records = config.data.on_bad_record == "skip";
  corpus_options.threads = config.data.loader_threads;
  data::TextCorpus corpus = read_text_corpus(config.data.train, *model.tokenizer, corpus_options);
  log::info("corpus: {} sequences, {} tokens ({} lines read, {} truncated)", corpus.sequences.size(), corpus.tokens,
            corpus.lines_read, corpus.truncated_lines);
  return std::make_unique<MlmTask>(config, std::move(model), std::move(corpus));
}

nlohmann::json long_matrix_to_json(const at::Tensor& t) {
  at::Tensor c = t.to(at::kLong).contiguous();
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < c.size(0); ++i) {
    const int64_t* p = c[i].data_ptr<int64_t>();
    rows.push_back(std::vector<int64_t>(p, p + c.size(1)));
  }
  return rows;
}

at::Tensor long_matrix_from_json(const nlohmann::json& j, const std::string& key) {
  if (!j.contains(key) || !j.at(key).is_array() || j.at(key).empty()) fail("batch: '{}' must be a non-empty list of rows", key);
  const auto& rows = j.at(key);
  const size_t width = rows.at(0).size();
  std::vector<int64_t> flat;
  for (const auto& row : rows) {
    if (!row.is_array() || row.size() != width) fail("batch: '{}' rows must all have {} entries", key, width);
    for (const auto& v : row) {
      if (!v.is_number_integer()) fail("batch: '{}' must hold integers", key);
      flat.push_back(v.get<int64_t>());
    }
  }
  return at::tensor(flat, at::kLong).view({static_cast<int64_t>(rows.size()), static_cast<int64_t>(width)});
}

nlohmann::json write_mlm_batch(Config& config, const TaskInputs& inputs) {
  auto task = make_mlm_task(config, inputs);
  auto& mlm = static_cast<MlmTask&>(*task);
  Rng rng = train::initial_data_rng(config.trainer);
  MlmBatch batch = mlm.next_batch(rng);
  return {{"task", "mlm"},
          {"input_ids", long_matrix_to_json(batch.input_ids)},
          {"attention_mask", long_matrix_to_json(batch.attention_mask)},
          {"token_type_ids", long_matrix_to_json(batch.token_type_ids)},
          {"labels", long_matrix_to_json(batch.labels)}};
}

nlohmann::json mlm_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch) {
  if (inputs.init.empty()) fail("loss --task mlm: --model DIR is required");
  models::TextModel tm = models::load_text_model(inputs.init);
  tm.model->eval();
  auto out = tm.model->forward(long_matrix_from_json(batch, "input_ids"), long_matrix_from_json(batch, "attention_mask"),
                               long_matrix_from_json(batch, "token_type_ids"), long_matrix_from_json(batch, "labels"));
  const double loss = out.loss.item<double>();
  return {{"mlm", loss}, {"total", loss}};
}

}  // namespace cotrain::tasks
