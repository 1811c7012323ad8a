#include "cotrain/models/unimo/unimo_decode.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "cotrain/core/error.h"
#include "cotrain/models/unimo/unimo_seq2seq.h"
#include "cotrain/nn/kernels/attention.h"

namespace cotrain::models {

namespace {

int64_t batch_size_of(const DecodeSource& s) {
  if (s.features.defined()) return s.features.size(0);
  if (s.source_ids.defined()) return s.source_ids.size(0);
  fail("decode: the source needs an image or a text");
}

// Text position of the next fed token: the number of real text tokens before it.
at::Tensor first_positions(const ModelConfig& config, const DecodeSource& s, int64_t B) {
  at::Tensor count = s.source_mask.defined() ? s.source_mask.ne(0).sum(1).to(at::kLong) : at::zeros({B}, at::kLong);
  return config.type == "roberta" ? count + config.pad_token_id + 1 : count;
}

// Hidden state [B, H] at each row's last real position (image length + real text - 1).
at::Tensor last_real(const at::Tensor& hidden, const DecodeSource& s, int64_t image_length) {
  const int64_t B = hidden.size(0);
  at::Tensor index = s.source_mask.defined() ? s.source_mask.ne(0).sum(1).to(at::kLong) + image_length - 1
                                             : at::full({B}, image_length - 1, at::kLong);
  const int64_t L = hidden.size(1);
  return hidden.reshape({B * L, hidden.size(2)}).index_select(0, at::arange(B, at::kLong) * L + index);
}

class Stepper {
 public:
  virtual ~Stepper() = default;
  virtual at::Tensor start() = 0;                          // logits [R, V] of the first token
  virtual at::Tensor step(const at::Tensor& tokens) = 0;   // feeds [R] tokens, logits [R, V]
  virtual void reorder(const at::Tensor& rows) = 0;        // rows [R] of the previous state
};

// Encodes positions against a per-layer key/value cache.
class CachedStepper : public Stepper {
 public:
  CachedStepper(UnimoModelImpl& model, const DecodeSource& s, int64_t expand, int64_t bos)
      : model_(model), bos_(bos) {
    const int64_t B = batch_size_of(s);
    std::vector<at::Tensor> parts, masks;
    int64_t image_length = 0;
    if (s.features.defined()) {
      ImageEmbedded img = embed_image(model, s.features, s.boxes, s.region_mask);
      parts.push_back(img.embeddings);
      masks.push_back(img.key_mask);
      image_length = img.key_mask.size(1);
    }
    if (s.source_ids.defined()) {
      parts.push_back(model.embeddings->forward(s.source_ids, {}, text_positions(model.config, s.source_mask)));
      masks.push_back(s.source_mask.to(at::kLong));
    }
    at::Tensor x = at::cat(parts, 1);
    key_mask_ = at::cat(masks, 1);
    keys_.assign(model.encoder->layers.size(), at::Tensor());
    values_.assign(model.encoder->layers.size(), at::Tensor());
    at::Tensor hidden = extend(x, additive_key_mask(key_mask_, x.scalar_type()));
    source_last_ = last_real(hidden, s, image_length);
    positions_ = first_positions(model.config, s, B);
    // One copy of the source state per beam.
    at::Tensor rows = at::arange(B, at::kLong).repeat_interleave(expand);
    reorder(rows);
    source_last_ = source_last_.index_select(0, rows);
  }

  at::Tensor start() override {
    if (bos_ >= 0) return step(at::full({key_mask_.size(0)}, bos_, at::kLong));
    return model_.mlm_logits(source_last_);
  }

  at::Tensor step(const at::Tensor& tokens) override {
    const int64_t R = tokens.size(0);
    at::Tensor x = model_.embeddings->forward(tokens.view({R, 1}), {}, positions_.view({R, 1}));
    key_mask_ = at::cat({key_mask_, at::ones({R, 1}, at::kLong)}, 1);
    at::Tensor hidden = extend(x, additive_key_mask(key_mask_, x.scalar_type()));
    positions_ = positions_ + 1;
    return model_.mlm_logits(hidden.select(1, 0));
  }

  void reorder(const at::Tensor& rows) override {
    for (auto& k : keys_) k = k.index_select(0, rows);
    for (auto& v : values_) v = v.index_select(0, rows);
    key_mask_ = key_mask_.index_select(0, rows);
    positions_ = positions_.index_select(0, rows);
  }

 private:
  // Runs the layers on new positions x [R, T, H] whose queries see the cached keys
  // and one another (the mask says which); appends their keys and values.
  at::Tensor extend(at::Tensor x, const at::Tensor& additive) {
    for (size_t l = 0; l < model_.encoder->layers.size(); ++l) {
      auto& layer = model_.encoder->layers[l];
      auto& self = layer->attention->self;
      at::Tensor q = self->query->forward(x), k = self->key->forward(x), v = self->value->forward(x);
      keys_[l] = keys_[l].defined() ? at::cat({keys_[l], k}, 1) : k;
      values_[l] = values_[l].defined() ? at::cat({values_[l], v}, 1) : v;
      at::Tensor context = nn::kernels::attention_reference(q, keys_[l], values_[l], additive, self->heads, 0.0, false);
      at::Tensor a = layer->attention->output->forward(context, x);
      x = layer->output->forward(layer->intermediate->forward(a), a);
    }
    return x;
  }

  UnimoModelImpl& model_;
  int64_t bos_;
  std::vector<at::Tensor> keys_, values_;
  at::Tensor key_mask_, positions_, source_last_;
};

// Re-encodes source + fed tokens with the model's encoder every step.
class FullStepper : public Stepper {
 public:
  FullStepper(UnimoModelImpl& model, const DecodeSource& s, int64_t expand, int64_t bos)
      : model_(model), bos_(bos) {
    const int64_t B = batch_size_of(s);
    rows_ = at::arange(B, at::kLong).repeat_interleave(expand);
    source_ = s;
    fed_ = at::zeros({rows_.size(0), 0}, at::kLong);
  }

  at::Tensor start() override {
    if (bos_ >= 0) return step(at::full({rows_.size(0)}, bos_, at::kLong));
    auto [hidden, image_length] = encode();
    DecodeSource picked;
    if (source_.source_mask.defined()) picked.source_mask = source_.source_mask.index_select(0, rows_);
    return model_.mlm_logits(last_real(hidden, picked, image_length));
  }

  at::Tensor step(const at::Tensor& tokens) override {
    fed_ = at::cat({fed_, tokens.view({-1, 1})}, 1);
    return model_.mlm_logits(encode().first.select(1, -1));
  }

  void reorder(const at::Tensor& rows) override {
    rows_ = rows_.index_select(0, rows);
    fed_ = fed_.index_select(0, rows);
  }

 private:
  std::pair<at::Tensor, int64_t> encode() {
    UnimoInputs in;
    const int64_t R = rows_.size(0), T = fed_.size(1);
    if (source_.features.defined()) {
      in.region_features = source_.features.index_select(0, rows_);
      in.region_boxes = source_.boxes.index_select(0, rows_);
      in.region_mask = source_.region_mask.index_select(0, rows_);
    }
    std::vector<at::Tensor> ids, mask, target;
    if (source_.source_ids.defined()) {
      ids.push_back(source_.source_ids.index_select(0, rows_));
      mask.push_back(source_.source_mask.index_select(0, rows_).to(at::kLong));
      target.push_back(at::zeros_like(mask.back()));
    }
    ids.push_back(fed_);
    mask.push_back(at::ones({R, T}, at::kLong));
    target.push_back(at::ones({R, T}, at::kLong));
    in.input_ids = at::cat(ids, 1);
    in.text_mask = at::cat(mask, 1);
    if (in.input_ids.size(1) == 0) {
      // Image-only source before anything is fed: the image part alone.
      in.input_ids = in.text_mask = at::Tensor();
      UnimoEncoded enc = model_.forward(in);
      return {enc.hidden, enc.image_length};
    }
    UnimoEncoded enc = unimo_seq2seq_forward(model_, in, at::cat(target, 1));
    return {enc.hidden, enc.image_length};
  }

  UnimoModelImpl& model_;
  int64_t bos_;
  DecodeSource source_;
  at::Tensor rows_, fed_;
};

std::unique_ptr<Stepper> make_stepper(UnimoModelImpl& model, const DecodeSource& s, int64_t expand,
                                      const DecodeOptions& o) {
  if (o.use_cache) return std::make_unique<CachedStepper>(model, s, expand, o.bos);
  return std::make_unique<FullStepper>(model, s, expand, o.bos);
}

void check_options(const DecodeOptions& o) {
  if (o.beam_size < 1) fail("decode: beam size must be at least 1");
  if (o.max_length < 1) fail("decode: max length must be at least 1");
  if (o.no_repeat_ngram < 0) fail("decode: no_repeat_ngram must be >= 0");
}

// Sets the log-probabilities of tokens that would repeat an n-gram to -inf.
void ban_repeats(at::Tensor& logp, const std::vector<std::vector<int64_t>>& history, int64_t n) {
  if (n <= 0) return;
  auto lp = logp.accessor<float, 2>();
  const float ninf = -std::numeric_limits<float>::infinity();
  for (size_t r = 0; r < history.size(); ++r) {
    const auto& h = history[r];
    const auto len = static_cast<int64_t>(h.size());
    if (len < n - 1) continue;
    for (int64_t i = 0; i + n <= len; ++i) {
      bool same = true;
      for (int64_t k = 0; k < n - 1 && same; ++k) same = h[static_cast<size_t>(i + k)] == h[static_cast<size_t>(len - n + 1 + k)];
      if (same) lp[static_cast<int64_t>(r)][h[static_cast<size_t>(i + n - 1)]] = ninf;
    }
  }
}

at::Tensor log_probs(const at::Tensor& logits) { return at::log_softmax(logits.to(at::kFloat), -1).contiguous(); }

double length_norm(int64_t length, double alpha) { return std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha); }

}  // namespace

std::vector<Decoded> greedy_decode(UnimoModelImpl& model, const DecodeSource& source, const DecodeOptions& o) {
  check_options(o);
  torch::NoGradGuard no_grad;
  const int64_t B = batch_size_of(source);
  auto stepper = make_stepper(model, source, 1, o);
  std::vector<Decoded> out(static_cast<size_t>(B));
  std::vector<std::vector<int64_t>> history(static_cast<size_t>(B));
  std::vector<bool> done(static_cast<size_t>(B), false);
  at::Tensor logits = stepper->start();
  for (int64_t t = 0; t < o.max_length; ++t) {
    at::Tensor logp = log_probs(logits);
    ban_repeats(logp, history, o.no_repeat_ngram);
    auto [best, index] = logp.max(1);
    std::vector<int64_t> next(static_cast<size_t>(B), o.eos);
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[static_cast<size_t>(b)]) continue;
      const int64_t tok = index[b].item<int64_t>();
      out[static_cast<size_t>(b)].score += best[b].item<double>();
      if (tok == o.eos) {
        done[static_cast<size_t>(b)] = true;
        continue;
      }
      out[static_cast<size_t>(b)].tokens.push_back(tok);
      history[static_cast<size_t>(b)].push_back(tok);
      next[static_cast<size_t>(b)] = tok;
      all_done = false;
    }
    if (all_done || t + 1 == o.max_length) break;
    logits = stepper->step(at::tensor(next, at::kLong));
  }
  return out;
}

std::vector<Decoded> beam_decode(UnimoModelImpl& model, const DecodeSource& source, const DecodeOptions& o) {
  check_options(o);
  torch::NoGradGuard no_grad;
  const int64_t B = batch_size_of(source), K = o.beam_size, R = B * K;
  auto stepper = make_stepper(model, source, K, o);
  std::vector<std::vector<int64_t>> history(static_cast<size_t>(R));
  std::vector<std::vector<Decoded>> finished(static_cast<size_t>(B));
  std::vector<bool> done(static_cast<size_t>(B), false);
  const double ninf = -std::numeric_limits<double>::infinity();
  std::vector<double> scores(static_cast<size_t>(R), ninf);
  for (int64_t b = 0; b < B; ++b) scores[static_cast<size_t>(b * K)] = 0.0;  // one live beam at first
  at::Tensor logits = stepper->start();
  for (int64_t t = 0; t < o.max_length; ++t) {
    at::Tensor logp = log_probs(logits);
    ban_repeats(logp, history, o.no_repeat_ngram);
    const int64_t V = logp.size(1);
    at::Tensor cand = (logp.to(at::kDouble) + at::tensor(scores, at::kDouble).view({R, 1})).view({B, K * V});
    auto [top, index] = cand.topk(std::min<int64_t>(2 * K, K * V), 1);
    auto top_a = top.accessor<double, 2>();
    auto index_a = index.accessor<int64_t, 2>();
    std::vector<int64_t> rows(static_cast<size_t>(R)), tokens(static_cast<size_t>(R), o.eos);
    std::vector<double> next_scores(static_cast<size_t>(R), ninf);
    const bool last = t + 1 == o.max_length;
    for (int64_t b = 0; b < B; ++b) {
      int64_t kept = 0;
      for (int64_t j = 0; j < top.size(1) && !done[static_cast<size_t>(b)] && kept < K; ++j) {
        const double s = top_a[b][j];
        if (!std::isfinite(s)) break;
        const int64_t beam = index_a[b][j] / V, tok = index_a[b][j] % V, row = b * K + beam;
        const auto& h = history[static_cast<size_t>(row)];
        if (tok == o.eos) {
          if (j < K)
            finished[static_cast<size_t>(b)].push_back(
                {h, s / length_norm(static_cast<int64_t>(h.size()) + 1, o.length_penalty)});
          continue;
        }
        if (last) {  // out of length: the hypothesis finishes as it is
          std::vector<int64_t> ended = h;
          ended.push_back(tok);
          finished[static_cast<size_t>(b)].push_back(
              {ended, s / length_norm(static_cast<int64_t>(ended.size()), o.length_penalty)});
        }
        rows[static_cast<size_t>(b * K + kept)] = row;
        tokens[static_cast<size_t>(b * K + kept)] = tok;
        next_scores[static_cast<size_t>(b * K + kept)] = s;
        ++kept;
      }
      // Rows without a live hypothesis keep a copy of beam 0 that can never win.
      for (int64_t k = kept; k < K; ++k) rows[static_cast<size_t>(b * K + k)] = b * K;
      if (static_cast<int64_t>(finished[static_cast<size_t>(b)].size()) >= K || last || kept == 0)
        done[static_cast<size_t>(b)] = true;
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    std::vector<std::vector<int64_t>> next_history(static_cast<size_t>(R));
    for (int64_t r = 0; r < R; ++r) {
      next_history[static_cast<size_t>(r)] = history[static_cast<size_t>(rows[static_cast<size_t>(r)])];
      if (std::isfinite(next_scores[static_cast<size_t>(r)])) next_history[static_cast<size_t>(r)].push_back(tokens[static_cast<size_t>(r)]);
    }
    history = std::move(next_history);
    scores = next_scores;
    stepper->reorder(at::tensor(rows, at::kLong));
    logits = stepper->step(at::tensor(tokens, at::kLong));
  }
  std::vector<Decoded> out(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    const auto& f = finished[static_cast<size_t>(b)];
    if (f.empty()) continue;
    out[static_cast<size_t>(b)] = *std::max_element(f.begin(), f.end(), [](const Decoded& x, const Decoded& y) { return x.score < y.score; });
  }
  return out;
}

std::vector<Decoded> decode(UnimoModelImpl& model, const DecodeSource& source, const DecodeOptions& options) {
  return options.beam_size == 1 ? greedy_decode(model, source, options) : beam_decode(model, source, options);
}

}  // namespace cotrain::models
