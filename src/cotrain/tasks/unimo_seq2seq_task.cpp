#include "cotrain/tasks/unimo_seq2seq_task.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <fstream>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"
#include "cotrain/data/regions.h"
#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/tasks/caption_generate.h"
#include "cotrain/tasks/unimo_seq2seq_losses.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

void validate_seq2seq_config(const Seq2seqConfig& s) {
  auto check = [](bool ok, const char* key, const std::string& why) {
    if (!ok) fail("seq2seq.{}: {}", key, why);
  };
  check(s.ratio >= 0 && s.ratio <= 1, "ratio", "must be in [0, 1]");
  check(s.target_fraction > 0 && s.target_fraction < 1, "target_fraction", "must be in (0, 1)");
  check(s.min_fragment >= 1, "min_fragment", "must be at least 1");
  check(s.max_fragment >= s.min_fragment, "max_fragment", "must be at least min_fragment");
  check(s.beam_size >= 1, "beam_size", "must be at least 1");
  check(s.length_penalty >= 0, "length_penalty", "must be >= 0");
  check(s.max_decode_length >= 1, "max_decode_length", "must be at least 1");
  check(s.no_repeat_ngram >= 0, "no_repeat_ngram", "must be >= 0");
}

UnimoImagePart image_part_of(const std::vector<data::RegionsView>& views, int64_t max_regions) {
  UnimoImagePart part;
  const auto B = static_cast<int64_t>(views.size());
  const int64_t D = views.front().feature_dim;
  int64_t N = 1;
  for (const auto& v : views) N = std::max(N, std::min(v.num_boxes, max_regions));
  part.features = at::zeros({B, N, D});
  part.boxes = at::zeros({B, N, 5});
  part.region_mask = at::zeros({B, N}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto& v = views[static_cast<size_t>(b)];
    const int64_t n = std::min(v.num_boxes, max_regions);
    float* f = part.features[b].data_ptr<float>();
    float* box = part.boxes[b].data_ptr<float>();
    int64_t* m = part.region_mask[b].data_ptr<int64_t>();
    std::copy(v.features, v.features + n * D, f);
    for (int64_t r = 0; r < n; ++r) {
      auto e = data::encode_box(v.boxes + 4 * r, v.width, v.height);
      std::copy(e.begin(), e.end(), box + 5 * r);
      m[r] = 1;
    }
  }
  return part;
}

UnimoSeq2seqTask::UnimoSeq2seqTask(const Config& config, std::unique_ptr<UnimoTask> unimo, bool caption_only)
    : config_(config), unimo_(std::move(unimo)), caption_only_(caption_only) {
  for (const auto& path : config_.data.train) {
    sets_.emplace_back(path);
    for (int64_t c = 0; c < sets_.back().num_captions(); ++c)
      captions_.emplace_back(static_cast<int64_t>(sets_.size()) - 1, c);
  }
  if (captions_.empty()) fail("{}: no captions", config_.data.train.front());
  if (!caption_only_ && !config_.unimo.text_corpus.empty()) {
    std::ifstream in(config_.unimo.text_corpus);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") != std::string::npos) text_lines_.push_back(line);
    }
  }
  order_ = data::EpochOrder::over(static_cast<int64_t>(captions_.size()), static_cast<uint64_t>(config_.trainer.seed),
                                  0x7365713273);
}

std::vector<int64_t> UnimoSeq2seqTask::tokens_of(const std::string& text, int64_t room) const {
  std::vector<int64_t> ids = unimo_->model().tokenizer->encode(text);
  if (static_cast<int64_t>(ids.size()) > room) ids.resize(static_cast<size_t>(std::max<int64_t>(room, 0)));
  return ids;
}

Seq2seqBatch UnimoSeq2seqTask::next_seq2seq_batch(Rng& rng) {
  const auto& sp = unimo_->model().tokenizer->specials();
  const int64_t B = config_.trainer.batch_size, max_len = config_.data.max_length;
  const FragmentOptions fo{config_.seq2seq.target_fraction, config_.seq2seq.min_fragment, config_.seq2seq.max_fragment};
  Seq2seqBatch batch;
  const int64_t n_text = caption_only_ ? 0 : std::llround(static_cast<double>(B) * config_.unimo.text_ratio);
  const int64_t n_pair = std::max<int64_t>(1, B - n_text);
  auto caption_text = [&](int64_t g) {
    const auto& [s, c] = captions_[static_cast<size_t>(g)];
    return std::string(sets_[static_cast<size_t>(s)].caption(c).text);
  };
  if (n_text > 0) {
    std::vector<Seq2seqRow> rows;
    for (int64_t i = 0; i < n_text; ++i) {
      const std::string text =
          text_lines_.empty() ? caption_text(rng.below(static_cast<int64_t>(captions_.size())))
                              : text_lines_[static_cast<size_t>(rng.below(static_cast<int64_t>(text_lines_.size())))];
      // [CLS] source [SEP] target: the end token is predicted, not fed (one slot spare).
      std::vector<int64_t> tokens = tokens_of(text, max_len - 2);
      if (tokens.empty()) tokens.push_back(sp.unk);
      rows.push_back(text_seq2seq_row(tokens, choose_target_fragments(static_cast<int64_t>(tokens.size()), fo, rng),
                                      sp.cls, sp.sep));
    }
    batch.text = make_seq2seq_part(rows, sp.pad);
  }
  std::vector<Seq2seqRow> rows;
  std::vector<data::RegionsView> views;
  for (int64_t i = 0; i < n_pair; ++i) {
    const int64_t g = order_.next();
    const auto& [s, c] = captions_[static_cast<size_t>(g)];
    const auto& set = sets_[static_cast<size_t>(s)];
    data::CaptionView cap = set.caption(c);
    views.push_back(set.image(cap.image_index));
    if (caption_only_) {
      rows.push_back(caption_row(tokens_of(std::string(cap.text), max_len - 1), sp.cls, sp.sep));
    } else {
      std::vector<int64_t> tokens = tokens_of(std::string(cap.text), max_len - 2);
      if (tokens.empty()) tokens.push_back(sp.unk);
      rows.push_back(text_seq2seq_row(tokens, choose_target_fragments(static_cast<int64_t>(tokens.size()), fo, rng),
                                      sp.cls, sp.sep));
    }
  }
  batch.pair = make_seq2seq_part(rows, sp.pad);
  batch.pair_image = image_part_of(views, config_.unimo.max_regions);
  batch.examples = n_text + n_pair;
  return batch;
}

train::LossTerms UnimoSeq2seqTask::next_loss(Rng& rng) {
  if (!caption_only_ && !rng.bernoulli(config_.seq2seq.ratio)) return unimo_->next_loss(rng);
  Seq2seqBatch batch = next_seq2seq_batch(rng);
  Seq2seqLossOutput out = seq2seq_losses(*unimo_->model().model, batch);
  train::LossTerms losses;
  losses.terms["total"] = out.terms.at("total");
  losses.terms[caption_only_ ? "caption" : "seq2seq"] = out.terms.at("seq2seq").detach();
  losses.samples = batch.examples;
  losses.tokens = out.tokens;
  return losses;
}

nlohmann::json UnimoSeq2seqTask::data_state() const {
  return {{"unimo", unimo_->data_state()}, {"seq2seq", order_.state()}};
}

void UnimoSeq2seqTask::restore_data_state(const nlohmann::json& state) {
  if (!state.is_object() || !state.contains("unimo") || !state.contains("seq2seq"))
    fail("progress.json: data: expected {{\"unimo\", \"seq2seq\"}} for task {}", name());
  unimo_->restore_data_state(state["unimo"]);
  order_.restore(state["seq2seq"], "seq2seq");
}

namespace {
std::unique_ptr<UnimoSeq2seqTask> make(Config& config, const TaskInputs& inputs, bool caption_only) {
  validate_seq2seq_config(config.seq2seq);
  if (caption_only) {
    // The caption task needs none of CMCL's retrieval and rewriting data.
    config.unimo.rewrite_negatives = 0;
    config.unimo.retrieval_positives = 0;
    config.unimo.tfidf_negatives = 0;
  }
  auto base = make_unimo_task(config, inputs);
  std::unique_ptr<UnimoTask> unimo(static_cast<UnimoTask*>(base.release()));
  return std::make_unique<UnimoSeq2seqTask>(config, std::move(unimo), caption_only);
}
}  // namespace

std::unique_ptr<train::TrainTask> make_unimo_seq2seq_task(Config& config, const TaskInputs& inputs) {
  return make(config, inputs, false);
}

std::unique_ptr<train::TrainTask> make_caption_task(Config& config, const TaskInputs& inputs) {
  return make(config, inputs, true);
}

nlohmann::json write_seq2seq_batch(Config& config, const TaskInputs& inputs) {
  auto task = make(config, inputs, false);
  Rng rng = train::initial_data_rng(config.trainer);
  return seq2seq_batch_to_json(task->next_seq2seq_batch(rng));
}

nlohmann::json write_caption_batch(Config& config, const TaskInputs& inputs) {
  auto task = make(config, inputs, true);
  Rng rng = train::initial_data_rng(config.trainer);
  return seq2seq_batch_to_json(task->next_seq2seq_batch(rng));
}

nlohmann::json seq2seq_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch_json) {
  if (inputs.init.empty()) fail("loss --task unimo-seq2seq: --model DIR is required");
  models::UnimoFolder folder = models::load_unimo_folder(inputs.init);
  folder.model->eval();
  Seq2seqBatch batch = seq2seq_batch_from_json(batch_json, folder.config.vocab_size);
  torch::NoGradGuard no_grad;
  Seq2seqLossOutput out = seq2seq_losses(*folder.model, batch);
  return {{"seq2seq", out.terms.at("seq2seq").item<double>()}, {"total", out.terms.at("total").item<double>()}};
}

nlohmann::json finish_caption(Config& config, train::TrainTask& task, const std::string& /*checkpoint*/,
                              const std::string& run_dir) {
  if (config.seq2seq.dev.empty()) return nullptr;
  auto& t = static_cast<UnimoSeq2seqTask&>(task);
  t.model().model->eval();
  CaptionRun run = caption_shards(t.model(), {config.seq2seq.dev}, decode_options_of(config, t.model()),
                                  config.unimo.max_regions, 32);
  write_caption_predictions(run_dir + "/dev-captions.jsonl", run);
  return caption_scores_json(run);
}

}  // namespace cotrain::tasks
