#include "cotrain/serve/unimo_encoder.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include "cotrain/core/error.h"
#include "cotrain/train/checkpoint.h"

namespace cotrain::serve {

namespace {
at::Tensor normalise(const at::Tensor& x) { return x / x.norm(2, {-1}, /*keepdim=*/true).clamp_min(1e-12); }
}  // namespace

UnimoEncoder::UnimoEncoder(const std::string& model_dir, EncoderOptions options)
    : model_dir_(train::resolve_model_dir(model_dir)), options_(std::move(options)) {
  folder_ = models::load_unimo_folder(model_dir_);
  if (!folder_.tokenizer) fail("{}: the UNIMO folder has no vocabulary", model_dir_);
  folder_.model->eval();
  const int64_t limit = folder_.config.max_position_embeddings - (folder_.config.type == "roberta" ? 2 : 0);
  max_length_ = options_.max_length > 0 ? std::min(options_.max_length, limit) : limit;
  if (max_length_ < 3) fail("{}: texts need at least 3 positions, the model allows {}", model_dir_, limit);
  if (options_.max_regions < 1) fail("--max-regions must be at least 1");
  data::check_grid_options(options_.grid);
}

int64_t UnimoEncoder::dim() const { return folder_.config.hidden_size; }

at::Tensor UnimoEncoder::encode_texts(const std::vector<std::string>& texts) {
  if (texts.empty()) return at::zeros({0, dim()});
  const auto& sp = folder_.tokenizer->specials();
  std::vector<std::vector<int64_t>> rows;
  size_t longest = 0;
  for (const auto& t : texts) {
    std::vector<int64_t> ids = folder_.tokenizer->encode(t);
    if (static_cast<int64_t>(ids.size()) > max_length_ - 2) ids.resize(static_cast<size_t>(max_length_ - 2));
    ids.insert(ids.begin(), sp.cls);
    ids.push_back(sp.sep);
    longest = std::max(longest, ids.size());
    rows.push_back(std::move(ids));
  }
  const int64_t B = static_cast<int64_t>(rows.size()), T = static_cast<int64_t>(longest);
  at::Tensor ids = at::full({B, T}, sp.pad, at::kLong), mask = at::zeros({B, T}, at::kLong);
  int64_t* pi = ids.data_ptr<int64_t>();
  int64_t* pm = mask.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b)
    for (size_t t = 0; t < rows[static_cast<size_t>(b)].size(); ++t) {
      pi[b * T + static_cast<int64_t>(t)] = rows[static_cast<size_t>(b)][t];
      pm[b * T + static_cast<int64_t>(t)] = 1;
    }
  c10::NoGradGuard no_grad;
  models::UnimoInputs in;
  in.input_ids = ids;
  in.text_mask = mask;
  return normalise(folder_.model->forward(in).h_cls).contiguous();
}

at::Tensor UnimoEncoder::encode_regions(const std::vector<data::Regions>& images) {
  if (images.empty()) return at::zeros({0, dim()});
  const int64_t B = static_cast<int64_t>(images.size()), D = feature_dim();
  int64_t N = 1;
  for (const auto& r : images) {
    if (r.feature_dim != D)
      fail("{}: regions of {} features, but the model takes {} (region_feature_dim)", r.image_id, r.feature_dim, D);
    std::string why;
    if (!data::check_regions(r, why)) fail("{}: {}", r.image_id, why);
    N = std::max(N, std::min(r.num_boxes, options_.max_regions));
  }
  at::Tensor features = at::zeros({B, N, D}), boxes = at::zeros({B, N, 5});
  at::Tensor mask = at::zeros({B, N}, at::kLong);
  float* pf = features.data_ptr<float>();
  float* pb = boxes.data_ptr<float>();
  int64_t* pm = mask.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& r = images[static_cast<size_t>(b)];
    const int64_t n = std::min(r.num_boxes, options_.max_regions);
    std::copy(r.features.begin(), r.features.begin() + n * D, pf + b * N * D);
    for (int64_t k = 0; k < n; ++k) {
      const auto e = data::encode_box(r.box(k), r.width, r.height);
      std::copy(e.begin(), e.end(), pb + (b * N + k) * 5);
      pm[b * N + k] = 1;
    }
  }
  c10::NoGradGuard no_grad;
  models::UnimoInputs in;
  in.region_features = features;
  in.region_boxes = boxes;
  in.region_mask = mask;
  return normalise(folder_.model->forward(in).h_img).contiguous();
}

at::Tensor UnimoEncoder::encode_images(const std::vector<io::Image>& images) {
  std::vector<data::Regions> regions;
  regions.reserve(images.size());
  for (size_t i = 0; i < images.size(); ++i)
    regions.push_back(data::grid_regions(images[i], options_.grid, "image " + std::to_string(i)));
  return encode_regions(regions);
}

}  // namespace cotrain::serve
