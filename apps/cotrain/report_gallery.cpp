#include "report_gallery.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <map>
#include <numeric>

#include "cotrain/core/error.h"
#include "cotrain/data/captions.h"
#include "cotrain/io/base64.h"
#include "cotrain/io/image.h"
#include "cotrain/serve/thumbnail.h"

namespace cotrain::app {

namespace {

std::vector<std::vector<double>> rows_of(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kDouble).contiguous();
  const int64_t n = c.size(0), d = c.size(1);
  const double* p = c.data_ptr<double>();
  std::vector<std::vector<double>> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)].assign(p + i * d, p + (i + 1) * d);
  return out;
}

}  // namespace

GallerySource load_gallery_source(const GalleryOptions& options) {
  if (options.max_images < 1) fail("report: --gallery-images must be at least 1");
  if (options.queries < 1 || options.top < 1) fail("report: --gallery-queries and --gallery-top must be at least 1");
  if (options.projection_pairs < 0) fail("report: --projection-pairs must be >= 0");
  data::check_grid_options(options.grid);
  data::CaptionOptions co;
  co.splits = options.splits;
  const std::vector<data::Caption> captions = data::read_captions(options.data, co);
  GallerySource source;
  source.path = options.data;
  std::map<std::string, int64_t> slot;  // image file -> candidate
  for (const auto& c : captions) {
    auto it = slot.find(c.image_path);
    if (it == slot.end()) {
      if (source.set.num_images() >= options.max_images) continue;  // beyond the cap: not a candidate
      io::Image image;
      try {
        image = io::load_image(c.image_path);
      } catch (const Error& e) {
        fail("{}: record {}: {}", options.data, c.record, e.what());
      }
      it = slot.emplace(c.image_path, source.set.num_images()).first;
      source.set.images.push_back(data::grid_regions(image, options.grid, c.image_key));
      source.set.image_keys.push_back(c.image_key);
      const std::string png = serve::thumbnail_png(image, options.thumbnail_size);
      source.thumbnails.push_back("data:image/png;base64," + io::base64_encode(png.data(), png.size()));
      source.first_text_of_image.push_back(source.set.num_texts());
    }
    source.set.texts.push_back(c.text);
    source.set.text_to_image.push_back(it->second);
  }
  if (source.set.texts.empty())
    fail("{}: no captions{}", options.data, options.splits.empty() ? "" : " in splits " + options.splits);
  return source;
}

std::optional<eval::RunGallery> run_gallery(const std::string& run_dir, const GallerySource& source,
                                            const GalleryOptions& options, std::string& why) {
  std::string arch;
  try {
    arch = tasks::model_architecture(run_dir);
  } catch (const Error& e) {
    why = e.what();
    return std::nullopt;
  }
  const auto& known = tasks::retrieval_scorers();
  if (std::none_of(known.begin(), known.end(), [&](const auto& e) { return e.architecture == arch; })) {
    why = "a " + arch + " model, not an image-text one";
    return std::nullopt;
  }
  tasks::RetrievalScorerOptions so;
  so.batch_size = options.batch_size;
  auto scorer = tasks::make_retrieval_scorer(run_dir, so);
  if (scorer->feature_dim() != options.grid.feature_dim())
    fail("report: {} takes {}-d regions, but --gallery-pool {} gives {}-d patches (use the grid it was trained with)",
         run_dir, scorer->feature_dim(), options.grid.pool, options.grid.feature_dim());
  c10::NoGradGuard no_grad;
  const tasks::RetrievalSet& set = source.set;
  const int64_t n = set.num_images();

  eval::RunGallery g;
  g.model_kind = scorer->kind();
  g.scoring = scorer->has_embeddings() ? "cosine of the image and caption embeddings"
                                       : "the alignment score of each (image, caption) pair";
  g.data = source.path;
  g.num_images = n;

  // Queries: a caption of images spread evenly over the candidates.
  const int64_t q_count = std::min(options.queries, n);
  std::vector<int64_t> query_texts, all_images(static_cast<size_t>(n));
  std::iota(all_images.begin(), all_images.end(), 0);
  for (int64_t k = 0; k < q_count; ++k) query_texts.push_back(source.first_text_of_image[static_cast<size_t>(k * n / q_count)]);
  const at::Tensor scores = scorer->score_matrix(set, all_images, query_texts).to(at::kDouble).contiguous();
  const double* s = scores.data_ptr<double>();
  for (int64_t q = 0; q < q_count; ++q) {
    const double* row = s + q * n;
    const int64_t text = query_texts[static_cast<size_t>(q)];
    const int64_t own = set.text_to_image[static_cast<size_t>(text)];
    eval::GalleryQuery gq;
    gq.text = set.texts[static_cast<size_t>(text)];
    gq.target_key = set.image_keys[static_cast<size_t>(own)];
    gq.target_rank = 1;
    for (int64_t i = 0; i < n; ++i) gq.target_rank += row[i] > row[own] ? 1 : 0;
    std::vector<int64_t> order = all_images;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });
    for (int64_t r = 0; r < std::min(options.top, n); ++r) {
      const int64_t i = order[static_cast<size_t>(r)];
      gq.hits.push_back({set.image_keys[static_cast<size_t>(i)], row[i], i == own, source.thumbnails[static_cast<size_t>(i)]});
    }
    g.queries.push_back(std::move(gq));
  }

  if (scorer->has_embeddings() && options.projection_pairs > 0) {
    const int64_t p = std::min(options.projection_pairs, n);
    std::vector<int64_t> images(all_images.begin(), all_images.begin() + p), texts;
    for (int64_t i : images) texts.push_back(source.first_text_of_image[static_cast<size_t>(i)]);
    g.image_embeddings = rows_of(scorer->embed_images(set, images));
    g.text_embeddings = rows_of(scorer->embed_texts(set, texts));
    for (int64_t i : images) g.image_labels.push_back(set.image_keys[static_cast<size_t>(i)]);
    for (int64_t t : texts) g.text_labels.push_back(set.texts[static_cast<size_t>(t)]);
  } else if (!scorer->has_embeddings()) {
    g.note = "A " + g.model_kind +
             " model scores each image with each caption jointly and has no separate embeddings: no projection.";
  }
  return g;
}

}  // namespace cotrain::app
