#include "cotrain/tasks/unimo_retrieval_scorer.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include "cotrain/core/error.h"

namespace cotrain::tasks {

namespace {
at::Tensor normalise(const at::Tensor& x) { return x / x.norm(2, {-1}, /*keepdim=*/true).clamp_min(1e-12); }

models::UnimoInputs inputs_of(const UnimoImagePart* image, const UnimoTextPart* text) {
  models::UnimoInputs in;
  if (image) {
    in.region_features = image->features;
    in.region_boxes = image->boxes;
    in.region_mask = image->region_mask;
  }
  if (text) {
    in.input_ids = text->input_ids;
    in.text_mask = text->attention_mask;
  }
  return in;
}
}  // namespace

UnimoImagePart unimo_image_part(const std::vector<const data::Regions*>& regions, int64_t feature_dim,
                                int64_t max_regions) {
  const int64_t B = static_cast<int64_t>(regions.size()), D = feature_dim;
  int64_t N = 1;
  for (const auto* r : regions) {
    if (r->feature_dim != D)
      fail("{}: regions of {} features, but the model takes {} (region_feature_dim)", r->image_id, r->feature_dim, D);
    N = std::max(N, max_regions > 0 ? std::min(r->num_boxes, max_regions) : r->num_boxes);
  }
  UnimoImagePart part;
  part.features = at::zeros({B, N, D});
  part.boxes = at::zeros({B, N, 5});
  part.region_mask = at::zeros({B, N}, at::kLong);
  float* pf = part.features.data_ptr<float>();
  float* pb = part.boxes.data_ptr<float>();
  int64_t* pm = part.region_mask.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& r = *regions[static_cast<size_t>(b)];
    const int64_t n = max_regions > 0 ? std::min(r.num_boxes, max_regions) : r.num_boxes;
    std::copy(r.features.begin(), r.features.begin() + n * D, pf + b * N * D);
    for (int64_t k = 0; k < n; ++k) {
      const auto e = data::encode_box(r.box(k), r.width, r.height);
      std::copy(e.begin(), e.end(), pb + (b * N + k) * 5);
      pm[b * N + k] = 1;
    }
  }
  return part;
}

UnimoTextPart unimo_text_part(const text::Tokenizer& tokenizer, const std::vector<const std::string*>& texts,
                              int64_t max_length) {
  const auto& sp = tokenizer.specials();
  std::vector<std::vector<int64_t>> rows;
  size_t longest = 1;
  for (const auto* t : texts) {
    std::vector<int64_t> ids = tokenizer.encode(*t);
    const size_t room = static_cast<size_t>(std::max<int64_t>(1, max_length - 2));
    if (ids.size() > room) ids.resize(room);
    ids.insert(ids.begin(), sp.cls);
    ids.push_back(sp.sep);
    longest = std::max(longest, ids.size());
    rows.push_back(std::move(ids));
  }
  const int64_t B = static_cast<int64_t>(rows.size()), T = static_cast<int64_t>(longest);
  UnimoTextPart part;
  part.input_ids = at::full({B, T}, sp.pad, at::kLong);
  part.attention_mask = at::zeros({B, T}, at::kLong);
  int64_t* pi = part.input_ids.data_ptr<int64_t>();
  int64_t* pm = part.attention_mask.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b)
    for (size_t t = 0; t < rows[static_cast<size_t>(b)].size(); ++t) {
      pi[b * T + static_cast<int64_t>(t)] = rows[static_cast<size_t>(b)][t];
      pm[b * T + static_cast<int64_t>(t)] = 1;
    }
  return part;
}

UnimoRetrievalScorer::UnimoRetrievalScorer(const std::string& model_dir, const RetrievalScorerOptions& options)
    : folder_(models::load_unimo_folder(model_dir)), model_dir_(model_dir), options_(options) {
  setup();
}

UnimoRetrievalScorer::UnimoRetrievalScorer(models::UnimoFolder folder, std::string model_dir,
                                           const RetrievalScorerOptions& options)
    : folder_(std::move(folder)), model_dir_(std::move(model_dir)), options_(options) {
  setup();
}

void UnimoRetrievalScorer::setup() {
  if (!folder_.tokenizer) fail("{}: the UNIMO folder has no vocabulary", model_dir_);
  if (options_.batch_size < 1) fail("retrieval: --batch-size must be at least 1");
  if (options_.max_regions < 0) fail("retrieval: max_regions must be >= 0");
  folder_.model->eval();
  const int64_t limit = folder_.config.max_position_embeddings - (folder_.config.type == "roberta" ? 2 : 0);
  max_length_ = options_.max_length > 0 ? std::min(options_.max_length, limit) : limit;
  if (max_length_ < 3) fail("{}: texts need at least 3 positions, the model allows {}", model_dir_, limit);
}

int64_t UnimoRetrievalScorer::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : folder_.model->parameters()) n += p.numel();
  return n;
}

at::Tensor UnimoRetrievalScorer::embed_images(const RetrievalSet& set, const std::vector<int64_t>& images) {
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> out;
  for (size_t s = 0; s < images.size(); s += static_cast<size_t>(options_.batch_size)) {
    std::vector<const data::Regions*> rows;
    for (size_t k = s; k < std::min(images.size(), s + static_cast<size_t>(options_.batch_size)); ++k)
      rows.push_back(&set.images.at(static_cast<size_t>(images[k])));
    UnimoImagePart part = unimo_image_part(rows, feature_dim(), options_.max_regions);
    out.push_back(normalise(folder_.model->forward(inputs_of(&part, nullptr)).h_img));
  }
  if (out.empty()) return at::zeros({0, folder_.config.hidden_size});
  return at::cat(out, 0).contiguous();
}

at::Tensor UnimoRetrievalScorer::embed_texts(const RetrievalSet& set, const std::vector<int64_t>& texts) {
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> out;
  for (size_t s = 0; s < texts.size(); s += static_cast<size_t>(options_.batch_size)) {
    std::vector<const std::string*> rows;
    for (size_t k = s; k < std::min(texts.size(), s + static_cast<size_t>(options_.batch_size)); ++k)
      rows.push_back(&set.texts.at(static_cast<size_t>(texts[k])));
    UnimoTextPart part = unimo_text_part(*folder_.tokenizer, rows, max_length_);
    out.push_back(normalise(folder_.model->forward(inputs_of(nullptr, &part)).h_cls));
  }
  if (out.empty()) return at::zeros({0, folder_.config.hidden_size});
  return at::cat(out, 0).contiguous();
}

at::Tensor UnimoRetrievalScorer::pair_scores(const RetrievalSet& set, const std::vector<int64_t>& images,
                                             const std::vector<int64_t>& texts) {
  if (images.size() != texts.size()) fail("retrieval: pair_scores needs as many images as texts");
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> out;
  for (size_t s = 0; s < images.size(); s += static_cast<size_t>(options_.batch_size)) {
    std::vector<const data::Regions*> regions;
    std::vector<const std::string*> rows;
    for (size_t k = s; k < std::min(images.size(), s + static_cast<size_t>(options_.batch_size)); ++k) {
      regions.push_back(&set.images.at(static_cast<size_t>(images[k])));
      rows.push_back(&set.texts.at(static_cast<size_t>(texts[k])));
    }
    UnimoImagePart image = unimo_image_part(regions, feature_dim(), options_.max_regions);
    UnimoTextPart text = unimo_text_part(*folder_.tokenizer, rows, max_length_);
    models::UnimoEncoded enc = folder_.model->forward(inputs_of(&image, &text));
    out.push_back(folder_.model->score(folder_.model->pool_image(enc.h_img), folder_.model->pool_text(enc.h_cls)));
  }
  if (out.empty()) return at::zeros({0});
  return at::cat(out, 0).contiguous();
}

}  // namespace cotrain::tasks
