#include "cotrain/data/distant_text.h"
#include "cotrain/tasks/unimo_task.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>

#include "cotrain/core/error.h"
#include "cotrain/core/atomic_file.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/core/log.h"
#include "cotrain/data/mlm_masking.h"
#include "cotrain/data/regions.h"
#include "cotrain/io/hf_folder.h"
#include "cotrain/models/weights.h"
#include "cotrain/objectives/region_masking.h"
#include "cotrain/objectives/span_masking.h"
#include "cotrain/tasks/unimo_losses.h"
#include "cotrain/tasks/unimo_paraphrases.h"
#include "cotrain/tasks/unimo_shard.h"
#include "cotrain/train/trainer.h"

namespace cotrain::tasks {

void validate_unimo_config(const UnimoConfig& u) {
  auto check = [](bool ok, const char* key, const std::string& why) {
    if (!ok) fail("unimo.{}: {}", key, why);
  };
  check(u.box_dim == 5, "box_dim", "must be 5 (x1/W, y1/H, x2/W, y2/H, area)");
  check(u.max_regions > 0, "max_regions", "must be positive");
  check(u.temperature_init > 0, "temperature_init", "must be positive");
  check(u.max_logit_scale >= 1.0 / u.temperature_init, "max_logit_scale", "must be at least 1/temperature_init");
  check(u.span_p > 0 && u.span_p <= 1, "span_p", "must be in (0, 1]");
  check(u.max_span >= 1, "max_span", "must be at least 1");
  check(u.region_mask_prob > 0 && u.region_mask_prob <= 1, "region_mask_prob", "must be in (0, 1]");
  check(u.region_iou_threshold >= 0 && u.region_iou_threshold <= 1, "region_iou_threshold", "must be in [0, 1]");
  check(u.text_ratio >= 0 && u.image_ratio >= 0 && u.text_ratio + u.image_ratio < 1, "text_ratio",
        "text_ratio and image_ratio must be >= 0 and leave room for pairs (sum < 1)");
  check(u.paraphrase_positives >= 0 && u.rewrite_negatives >= 0 && u.tfidf_negatives >= 0 &&
            u.retrieval_positives >= 0,
        "paraphrase_positives", "CMCL counts must be >= 0");
  check(u.paraphrase_max_unknown >= 0 && u.paraphrase_max_unknown <= 1, "paraphrase_max_unknown",
        "must be in [0, 1] (a share of word pieces)");
  check(u.retrieval_threshold >= -1 && u.retrieval_threshold <= 1, "retrieval_threshold", "must be in [-1, 1]");
}

UnimoTask::UnimoTask(const Config& config, models::UnimoFolder model) : config_(config), model_(std::move(model)) {
  load_data();
  order_ = data::EpochOrder::over(static_cast<int64_t>(pairs_.size()), static_cast<uint64_t>(config_.trainer.seed),
                                  0x756e696d6f);
}

void UnimoTask::load_data() {
  const UnimoConfig& u = config_.unimo;
  if (config_.data.train.empty())
    fail("task unimo: no image-text pairs (--data DIR: shards written by 'cotrain prepare')");
  for (const auto& path : config_.data.train) pair_sets_.emplace_back(path);
  feature_dim_ = pair_sets_.front().feature_dim();
  ParaphraseCounts paraphrase_counts;
  num_classes_ = pair_sets_.front().num_classes();
  for (size_t s = 0; s < pair_sets_.size(); ++s) {
    const auto& set = pair_sets_[s];
    if (set.feature_dim() != feature_dim_ || set.num_classes() != num_classes_)
      fail("{}: regions of {} features / {} classes, but {} has {} / {}", config_.data.train[s], set.feature_dim(),
           set.num_classes(), config_.data.train[0], feature_dim_, num_classes_);
    const int64_t image_base = static_cast<int64_t>(image_index_.size());
    for (int64_t i = 0; i < set.num_images(); ++i) image_index_.emplace_back(static_cast<int64_t>(s), i);
    for (int64_t c = 0; c < set.num_captions(); ++c) {
      data::Caption record = set.caption_record(c);
      data::CaptionView view = set.caption(c);
      PairRef p;
      p.image = image_base + view.image_index;
      p.text = record.text;
      p.image_key = std::string(set.image(view.image_index).image_key);
      p.paraphrases = usable_paraphrases(*model_.tokenizer, record.text, record.paraphrases,
                                         u.paraphrase_max_unknown, paraphrase_counts);
      caption_index_.emplace_back(static_cast<int64_t>(s), c);
      pairs_.push_back(std::move(p));
    }
  }
  if (pairs_.empty()) fail("{}: no captions", config_.data.train.front());
  if (paraphrase_counts.given > 0)
    log::info("unimo: paraphrases: {} of {} usable as positives ({} with more than {} of their pieces [UNK], {} the "
              "caption itself)",
              paraphrase_counts.kept, paraphrase_counts.given, paraphrase_counts.unknown, u.paraphrase_max_unknown,
              paraphrase_counts.same);
  if (feature_dim_ != model_.geometry.region_feature_dim)
    fail("{}: regions have {} features but the model takes {} (unimo.region_feature_dim)", config_.data.train.front(),
         feature_dim_, model_.geometry.region_feature_dim);

  if (!u.image_corpus.empty()) {
    image_corpus_.emplace(u.image_corpus);
    if (image_corpus_->feature_dim() != feature_dim_)
      fail("{}: regions have {} features, the pairs {}", u.image_corpus, image_corpus_->feature_dim(), feature_dim_);
    if (image_corpus_->num_classes() != num_classes_)
      fail("{}: {} region classes, the pairs {}", u.image_corpus, image_corpus_->num_classes(), num_classes_);
  }
  if (!u.text_corpus.empty()) {
    std::ifstream in(u.text_corpus);
    if (!in) fail("{}: cannot open the text corpus", u.text_corpus);
    std::string line;
    int64_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      try {
        model_.tokenizer->encode(line);  // rejects invalid UTF-8 here, with the line
      } catch (const Error& e) {
        fail("{}: line {}: {}", u.text_corpus, number, e.what());
      }
      text_lines_.push_back(line);
    }
    if (text_lines_.empty()) fail("{}: no text", u.text_corpus);
    text_tfidf_ = std::make_unique<TfidfIndex>(text_lines_);
  }
  std::vector<std::string> caption_texts;
  for (const auto& p : pairs_) caption_texts.push_back(p.text);
  caption_tfidf_ = std::make_unique<TfidfIndex>(caption_texts);
  if (u.rewrite_negatives > 0) {
    if (!is_directory(u.lexicons))
      fail("unimo.lexicons: {} is not a folder (rewriting lexicons; unimo.rewrite_negatives=0 turns them off)",
           u.lexicons);
    rewriter_.add_lexicon_dir(u.lexicons);
  }
  // Retrieval pool: normalised mean region features.
  pool_set_ = image_corpus_ ? 1 : 0;
  const int64_t pool_size = image_corpus_ ? image_corpus_->num_images() : static_cast<int64_t>(image_index_.size());
  if (u.retrieval_positives > 0) {
    pool_features_.reserve(static_cast<size_t>(pool_size * feature_dim_));
    for (int64_t i = 0; i < pool_size; ++i) {
      auto f = mean_feature(image_view(pool_set_, i));
      pool_features_.insert(pool_features_.end(), f.begin(), f.end());
    }
  }
  log::info("unimo: {} captions of {} images ({} features, {} classes); text corpus {} lines; image corpus {} images; "
            "{} rewriting groups",
            pairs_.size(), image_index_.size(), feature_dim_, num_classes_, text_lines_.size(),
            image_corpus_ ? image_corpus_->num_images() : 0, rewriter_.groups());
}

int64_t UnimoTask::next_pair() { return order_.next(); }

data::RegionsView UnimoTask::image_view(int64_t set, int64_t index) const {
  if (set == 1) return image_corpus_->image(index);
  const auto& [s, i] = image_index_[static_cast<size_t>(index)];
  return pair_sets_[static_cast<size_t>(s)].image(i);
}

std::vector<int64_t> UnimoTask::wrap_text(const std::string& text) const {
  const auto& sp = model_.tokenizer->specials();
  std::vector<int64_t> ids = model_.tokenizer->encode(text);
  const size_t room = static_cast<size_t>(std::max<int64_t>(1, config_.data.max_length - 2));
  if (ids.size() > room) ids.resize(room);
  ids.insert(ids.begin(), sp.cls);
  ids.push_back(sp.sep);
  return ids;
}

void UnimoTask::mask_text(std::vector<int64_t>& ids, std::vector<int64_t>& labels, Rng& rng) const {
  std::vector<bool> maskable(ids.size(), true);
  maskable.front() = maskable.back() = false;
  const auto& sp = model_.tokenizer->specials();
  if (config_.unimo.span_masking) {
    objectives::SpanMaskingOptions o;
    o.mask_prob = config_.data.mask_prob;
    o.p = config_.unimo.span_p;
    o.max_span = config_.unimo.max_span;
    o.mask_id = sp.mask;
    o.vocab_size = model_.tokenizer->vocab_size();
    labels = objectives::mask_spans(ids, maskable, o, rng);
  } else {
    data::MaskingOptions o;
    o.mask_prob = config_.data.mask_prob;
    o.mask_id = sp.mask;
    o.vocab_size = model_.tokenizer->vocab_size();
    labels = data::mask_tokens(ids, maskable, o, rng);
  }
}

std::vector<float> UnimoTask::mean_feature(const data::RegionsView& view) const {
  const int64_t n = std::min(view.num_boxes, config_.unimo.max_regions), D = view.feature_dim;
  std::vector<float> mean(static_cast<size_t>(D), 0.0f);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t d = 0; d < D; ++d) mean[static_cast<size_t>(d)] += view.features[r * D + d];
  double norm = 0;
  for (float v : mean) norm += static_cast<double>(v) * v;
  norm = std::sqrt(norm);
  if (norm > 0)
    for (float& v : mean) v = static_cast<float>(v / norm);
  return mean;
}

int64_t UnimoTask::retrieve_image(int64_t pair_image) const {
  if (pool_features_.empty()) return -1;
  const data::RegionsView query_view = image_view(0, pair_image);
  const std::vector<float> q = mean_feature(query_view);
  const int64_t D = feature_dim_, n = static_cast<int64_t>(pool_features_.size()) / D;
  int64_t best = -1;
  double best_sim = config_.unimo.retrieval_threshold;
  for (int64_t i = 0; i < n; ++i) {
    if (pool_set_ == 0 && i == pair_image) continue;
    if (image_view(pool_set_, i).image_key == query_view.image_key) continue;
    double s = 0;
    for (int64_t d = 0; d < D; ++d) s += static_cast<double>(q[static_cast<size_t>(d)]) * pool_features_[static_cast<size_t>(i * D + d)];
    if (s >= best_sim) {
      best_sim = s;
      best = i;
    }
  }
  return best;
}

void UnimoTask::fill_image(UnimoImagePart& part, int64_t row, const data::RegionsView& view, bool mask_regions,
                           Rng& rng) const {
  const int64_t n = std::min(view.num_boxes, config_.unimo.max_regions), D = feature_dim_;
  std::vector<bool> masked(static_cast<size_t>(n), false);
  if (mask_regions)
    masked = objectives::choose_masked_regions(view.boxes, n, config_.unimo.region_mask_prob,
                                               config_.unimo.region_iou_threshold, rng);
  float* features = part.features[row].data_ptr<float>();
  float* boxes = part.boxes[row].data_ptr<float>();
  int64_t* rmask = part.region_mask[row].data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    const bool hide = masked[static_cast<size_t>(r)];
    for (int64_t d = 0; d < D; ++d) features[r * D + d] = hide ? 0.0f : view.features[r * D + d];
    auto e = data::encode_box(view.boxes + 4 * r, view.width, view.height);
    for (int k = 0; k < 5; ++k) boxes[r * 5 + k] = e[static_cast<size_t>(k)];
    rmask[r] = 1;
  }
  if (!mask_regions) return;
  float* targets = part.target_features[row].data_ptr<float>();
  int64_t* labels = part.masked[row].data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    labels[r] = masked[static_cast<size_t>(r)] ? 1 : 0;
    for (int64_t d = 0; d < D; ++d) targets[r * D + d] = view.features[r * D + d];
  }
  if (part.target_classes.defined() && view.class_probs) {
    float* classes = part.target_classes[row].data_ptr<float>();
    const int64_t C = view.num_classes;
    std::copy(view.class_probs, view.class_probs + n * C, classes);
  }
}

UnimoImagePart UnimoTask::make_image_part(const std::vector<std::pair<int64_t, int64_t>>& images, bool mask_regions,
                                          Rng& rng) const {
  UnimoImagePart part;
  const int64_t B = static_cast<int64_t>(images.size());
  int64_t N = 1;
  for (const auto& [set, i] : images) N = std::max(N, std::min(image_view(set, i).num_boxes, config_.unimo.max_regions));
  part.features = at::zeros({B, N, feature_dim_});
  part.boxes = at::zeros({B, N, 5});
  part.region_mask = at::zeros({B, N}, at::kLong);
  if (mask_regions) {
    part.masked = at::zeros({B, N}, at::kLong);
    part.target_features = at::zeros({B, N, feature_dim_});
    if (num_classes_ > 0) part.target_classes = at::zeros({B, N, num_classes_});
  }
  for (int64_t b = 0; b < B; ++b) fill_image(part, b, image_view(images[b].first, images[b].second), mask_regions, rng);
  return part;
}

UnimoTextPart UnimoTask::make_text_part(const std::vector<std::vector<int64_t>>& ids,
                                        const std::vector<std::vector<int64_t>>* labels) const {
  UnimoTextPart part;
  const int64_t B = static_cast<int64_t>(ids.size());
  size_t M = 1;
  for (const auto& row : ids) M = std::max(M, row.size());
  part.input_ids = at::full({B, static_cast<int64_t>(M)}, model_.tokenizer->specials().pad, at::kLong);
  part.attention_mask = at::zeros({B, static_cast<int64_t>(M)}, at::kLong);
  if (labels) part.labels = at::full({B, static_cast<int64_t>(M)}, data::kIgnoreLabel, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto& row = ids[static_cast<size_t>(b)];
    for (size_t t = 0; t < row.size(); ++t) {
      part.input_ids[b][static_cast<int64_t>(t)] = row[t];
      part.attention_mask[b][static_cast<int64_t>(t)] = 1;
      if (labels) part.labels[b][static_cast<int64_t>(t)] = (*labels)[static_cast<size_t>(b)][t];
    }
  }
  return part;
}

UnimoBatch UnimoTask::next_batch(Rng& rng) {
  const UnimoConfig& u = config_.unimo;
  const int64_t B = config_.trainer.batch_size;
  const int64_t n_text = std::llround(static_cast<double>(B) * u.text_ratio);
  const int64_t n_image = std::llround(static_cast<double>(B) * u.image_ratio);
  const int64_t n_pair = std::max<int64_t>(1, B - n_text - n_image);
  UnimoBatch batch;
  batch.examples = n_text + n_image + n_pair;

  std::vector<int64_t> pair_ids;
  for (int64_t i = 0; i < n_pair; ++i) pair_ids.push_back(next_pair());

  // Text-only: lines of the text corpus, or captions on their own.
  if (n_text > 0) {
    std::vector<std::vector<int64_t>> ids, labels;
    for (int64_t i = 0; i < n_text; ++i) {
      const std::string& text = text_lines_.empty()
                                    ? pairs_[static_cast<size_t>(rng.below(static_cast<int64_t>(pairs_.size())))].text
                                    : text_lines_[static_cast<size_t>(rng.below(static_cast<int64_t>(text_lines_.size())))];
      ids.push_back(wrap_text(text));
      labels.emplace_back();
      mask_text(ids.back(), labels.back(), rng);
    }
    batch.text = make_text_part(ids, &labels);
  }
  // Image-only: the image corpus, or pair images on their own.
  if (n_image > 0) {
    std::vector<std::pair<int64_t, int64_t>> images;
    for (int64_t i = 0; i < n_image; ++i) {
      if (image_corpus_) images.emplace_back(1, rng.below(image_corpus_->num_images()));
      else images.emplace_back(0, rng.below(static_cast<int64_t>(image_index_.size())));
    }
    batch.image = make_image_part(images, true, rng);
  }
  // Pairs: masked caption + masked regions, jointly encoded.
  {
    std::vector<std::vector<int64_t>> ids, labels;
    std::vector<std::pair<int64_t, int64_t>> images;
    for (int64_t p : pair_ids) {
      ids.push_back(wrap_text(pairs_[static_cast<size_t>(p)].text));
      labels.emplace_back();
      mask_text(ids.back(), labels.back(), rng);
      images.emplace_back(0, pairs_[static_cast<size_t>(p)].image);
    }
    batch.pair_text = make_text_part(ids, &labels);
    batch.pair_image = make_image_part(images, true, rng);
  }
  // CMCL: unmasked images and texts, encoded separately.
  std::vector<std::pair<int64_t, int64_t>> cm_images;
  std::vector<std::vector<int64_t>> cm_texts;
  std::vector<std::string> cm_text_strings;
  std::vector<std::vector<std::array<int64_t, 3>>> cells(pair_ids.size());  // (image, text, kind)
  std::vector<std::vector<int64_t>> extra_texts(pair_ids.size());  // per anchor: its paraphrases, retrieved texts
  auto add_text = [&](const std::string& t) {
    cm_texts.push_back(wrap_text(t));
    cm_text_strings.push_back(data::ascii_lower(t));
    return static_cast<int64_t>(cm_texts.size()) - 1;
  };
  for (int64_t p : pair_ids) {
    cm_images.emplace_back(0, pairs_[static_cast<size_t>(p)].image);
    add_text(pairs_[static_cast<size_t>(p)].text);
  }
  const int64_t P = static_cast<int64_t>(pair_ids.size());
  for (int64_t a = 0; a < P; ++a) {
    const PairRef& pair = pairs_[static_cast<size_t>(pair_ids[static_cast<size_t>(a)])];
    auto& c = cells[static_cast<size_t>(a)];
    c.push_back({a, a, objectives::kCmclPositive});
    // X+: paraphrases, drawn without replacement.
    std::vector<std::string> paras = pair.paraphrases;
    for (int64_t k = 0; k < u.paraphrase_positives && !paras.empty(); ++k) {
      const size_t pick = static_cast<size_t>(rng.below(static_cast<int64_t>(paras.size())));
      extra_texts[static_cast<size_t>(a)].push_back(add_text(paras[pick]));
      c.push_back({a, extra_texts[static_cast<size_t>(a)].back(), objectives::kCmclPositive});
      paras.erase(paras.begin() + static_cast<std::ptrdiff_t>(pick));
    }
    const std::string own = data::ascii_lower(pair.text);  // a caption is never its own neighbour
    // X_I and X_T: retrieved positives.
    if (u.retrieval_positives > 0) {
      const int64_t img = retrieve_image(pair.image);
      if (img >= 0) {
        cm_images.emplace_back(pool_set_, img);
        c.push_back({static_cast<int64_t>(cm_images.size()) - 1, a, objectives::kCmclPositive});
      }
      if (text_tfidf_) {
        auto hits = text_tfidf_->search(text_tfidf_->vectorize(pair.text), u.retrieval_positives,
                                        [&](int64_t d) { return data::ascii_lower(text_lines_[static_cast<size_t>(d)]) != own; });
        for (const auto& h : hits)
          if (h.similarity >= u.retrieval_threshold) {
            extra_texts[static_cast<size_t>(a)].push_back(add_text(text_lines_[static_cast<size_t>(h.document)]));
            c.push_back({a, extra_texts[static_cast<size_t>(a)].back(), objectives::kCmclPositive});
          }
      }
    }
    // X-: rewritten captions and TF-IDF-nearest captions of other images.
    for (const auto& t : rewriter_.rewrite(pair.text, u.rewrite_negatives, rng))
      c.push_back({a, add_text(t), objectives::kCmclNegative});
    if (u.tfidf_negatives > 0) {
      auto hits = caption_tfidf_->search(caption_tfidf_->vectorize(pair.text), u.tfidf_negatives, [&](int64_t d) {
        const PairRef& other = pairs_[static_cast<size_t>(d)];
        return other.image_key != pair.image_key && data::ascii_lower(other.text) != own;
      });
      for (const auto& h : hits)
        c.push_back({a, add_text(pairs_[static_cast<size_t>(h.document)].text), objectives::kCmclNegative});
    }
  }
  // In-batch negatives: other pairs' images with this caption and this image with
  // other pairs' captions, unless they are the same image or the same text.
  for (int64_t a = 0; a < P; ++a) {
    const PairRef& pa = pairs_[static_cast<size_t>(pair_ids[static_cast<size_t>(a)])];
    for (int64_t b = 0; b < P; ++b) {
      if (a == b) continue;
      const PairRef& pb = pairs_[static_cast<size_t>(pair_ids[static_cast<size_t>(b)])];
      if (pa.image_key == pb.image_key || cm_text_strings[static_cast<size_t>(a)] == cm_text_strings[static_cast<size_t>(b)])
        continue;
      cells[static_cast<size_t>(a)].push_back({a, b, objectives::kCmclNegative});
      cells[static_cast<size_t>(a)].push_back({b, a, objectives::kCmclNegative});
      // This pair's other positive texts against the other image too: a text that is
      // only ever a positive lets every image drift towards whatever such texts share
      // (another language's script, [UNK] pieces) and the loss fall without telling
      // images apart.
      if (!u.in_batch_extra_texts) continue;
      // Unless the text is also one of b's positives (the same words).
      auto positive_of_b = [&](int64_t t) {
        const std::string& words = cm_text_strings[static_cast<size_t>(t)];
        if (words == cm_text_strings[static_cast<size_t>(b)]) return true;
        for (int64_t o : extra_texts[static_cast<size_t>(b)])
          if (words == cm_text_strings[static_cast<size_t>(o)]) return true;
        return false;
      };
      for (int64_t t : extra_texts[static_cast<size_t>(a)])
        if (!positive_of_b(t)) cells[static_cast<size_t>(a)].push_back({b, t, objectives::kCmclNegative});
    }
  }
  size_t K = 1;
  for (const auto& c : cells) K = std::max(K, c.size());
  batch.cells.image = at::zeros({P, static_cast<int64_t>(K)}, at::kLong);
  batch.cells.text = at::zeros({P, static_cast<int64_t>(K)}, at::kLong);
  batch.cells.kind = at::zeros({P, static_cast<int64_t>(K)}, at::kLong);
  for (int64_t a = 0; a < P; ++a)
    for (size_t k = 0; k < cells[static_cast<size_t>(a)].size(); ++k) {
      const auto& cell = cells[static_cast<size_t>(a)][k];
      batch.cells.image[a][static_cast<int64_t>(k)] = cell[0];
      batch.cells.text[a][static_cast<int64_t>(k)] = cell[1];
      batch.cells.kind[a][static_cast<int64_t>(k)] = cell[2];
    }
  batch.cmcl_images = make_image_part(cm_images, false, rng);
  batch.cmcl_texts = make_text_part(cm_texts, nullptr);
  return batch;
}

std::vector<train::NamedParameter> UnimoTask::parameters() {
  std::vector<train::NamedParameter> params;
  for (auto& item : model_.model->named_parameters(true)) {
    if (item.key() == "logit_scale" && !config_.unimo.learn_temperature) continue;
    params.push_back({item.key(), item.value(), !train::is_no_decay_name(item.key()), 1.0});
  }
  return params;
}

void UnimoTask::set_data_shard(int64_t rank, int64_t world_size) {
  if (config_.trainer.batch_size % world_size != 0)
    fail("trainer.batch_size ({}) must be a multiple of the number of processes ({}): it is the global batch, "
         "split evenly over the processes", config_.trainer.batch_size, world_size);
  shard_rank_ = rank;
  shard_count_ = world_size;
}

train::LossTerms UnimoTask::next_loss(Rng& rng) {
  UnimoBatch batch = next_batch(rng);
  const bool shared = shard_count_ > 1;
  UnimoLossOutput out = shared ? unimo_losses_shared(*model_.model, batch, config_.unimo, shard_rank_, shard_count_)
                               : unimo_losses(*model_.model, batch, config_.unimo);
  train::LossTerms losses;
  for (auto& [name, t] : out.terms) losses.terms[name] = name == "total" ? t : t.detach();
  losses.samples = shared ? unimo_local_batch(batch, shard_rank_, shard_count_).examples : batch.examples;
  losses.tokens = out.tokens;
  return losses;
}

nlohmann::json UnimoTask::data_state() const { return order_.state(); }

void UnimoTask::restore_data_state(const nlohmann::json& state) { order_.restore(state, "pairs"); }

void UnimoTask::save_model(const std::string& dir) { models::save_unimo_folder(dir, model_); }

void UnimoTask::load_model(const std::string& dir) {
  models::load_weights(*model_.model, io::load_safetensors(join_path(dir, "model.safetensors")).tensors,
                       models::LoadMode::strict, dir);
}

namespace {
bool is_unimo_folder(const std::string& dir) {
  const std::string path = join_path(dir, "config.json");
  if (!is_regular_file(path)) return false;
  return read_whole_file(path).find("\"unimo\"") != std::string::npos;
}

// The region geometry of the pair shards named in data.train (first one).
void geometry_from_data(const Config& config, models::UnimoGeometry& g) {
  if (config.data.train.empty()) return;
  data::ShardSet set(config.data.train.front());
  g.region_feature_dim = set.feature_dim();
  g.num_region_classes = config.unimo.num_region_classes > 0 ? config.unimo.num_region_classes : set.num_classes();
}
}  // namespace

std::unique_ptr<train::TrainTask> make_unimo_task(Config& config, const TaskInputs& inputs) {
  validate_unimo_config(config.unimo);
  models::UnimoFolder folder;
  if (!inputs.init.empty() && is_unimo_folder(inputs.init)) {
    folder = models::load_unimo_folder(inputs.init);
    if (!folder.tokenizer) fail("{}: the UNIMO folder has no vocabulary", inputs.init);
  } else {
    models::UnimoGeometry g;
    g.region_feature_dim = config.unimo.region_feature_dim;
    g.num_region_classes = config.unimo.num_region_classes;
    g.temperature_init = config.unimo.temperature_init;
    g.max_logit_scale = config.unimo.max_logit_scale;
    geometry_from_data(config, g);
    if (!inputs.init.empty()) {
      io::HfFolder hf = io::read_hf_folder(inputs.init);
      if (hf.vocab_path.empty()) fail("{}: no vocabulary", inputs.init);
      folder.config = hf.config;
      folder.lowercase = hf.lowercase;
      folder.tokenizer = text::load_tokenizer(hf.vocab_path, hf.lowercase);
      folder.geometry = g;
      folder.model = models::UnimoModel(folder.config, g);
      models::init_unimo_from_text_folder(*folder.model, inputs.init);
    } else {
      if (config.data.vocab.empty())
        fail("task unimo: give --init DIR (a BERT/RoBERTa or UNIMO folder) or a vocabulary (--vocab / data.vocab)");
      folder.tokenizer = text::load_tokenizer(config.data.vocab, config.data.lowercase);
      folder.lowercase = config.data.lowercase;
      folder.config = config.model;
      folder.config.vocab_size = folder.tokenizer->vocab_size();
      folder.config.pad_token_id = folder.tokenizer->specials().pad;
      folder.config.type_vocab_size = 1;  // UNIMO has no segments
      folder.geometry = g;
      folder.model = models::UnimoModel(folder.config, g);
    }
  }
  config.model = folder.config;
  config.unimo.region_feature_dim = folder.geometry.region_feature_dim;
  config.unimo.num_region_classes = folder.geometry.num_region_classes;
  const int64_t limit = config.model.max_position_embeddings - (config.model.type == "roberta" ? 2 : 0);
  if (config.data.max_length > limit)
    fail("data.max_length ({}) exceeds what model.max_position_embeddings ({}) allows ({})", config.data.max_length,
         config.model.max_position_embeddings, limit);
  return std::make_unique<UnimoTask>(config, std::move(folder));
}

nlohmann::json write_unimo_batch(Config& config, const TaskInputs& inputs) {
  auto task = make_unimo_task(config, inputs);
  auto& unimo = static_cast<UnimoTask&>(*task);
  Rng rng = train::initial_data_rng(config.trainer);
  return unimo_batch_to_json(unimo.next_batch(rng));
}

nlohmann::json unimo_batch_loss(Config& config, const TaskInputs& inputs, const nlohmann::json& batch_json) {
  if (inputs.init.empty()) fail("loss --task unimo: --model DIR is required");
  models::UnimoFolder folder = models::load_unimo_folder(inputs.init);
  folder.model->eval();
  UnimoBatch batch = unimo_batch_from_json(batch_json);
  torch::NoGradGuard no_grad;
  UnimoLossOutput out = unimo_losses(*folder.model, batch, config.unimo);
  nlohmann::json result = nlohmann::json::object();
  for (const auto& [name, t] : out.terms) result[name] = t.item<double>();
  return result;
}

}  // namespace cotrain::tasks
