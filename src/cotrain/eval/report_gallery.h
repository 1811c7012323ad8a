// What a report shows of a vision-language run beyond its curves: a retrieval
// gallery (a few captions used as queries, each with the images the model ranks
// first, as thumbnails inside the page) and, for models that embed images and texts
// apart (UNIMO), a 2-D projection of those embeddings (report_projection.h).
// The numbers are computed by the program (apps/cotrain/report_gallery.cpp, which
// runs the model through tasks/retrieval_scorer.h); this layer only holds and draws
// them. No LibTorch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cotrain::eval {

struct GalleryHit {
  std::string image_key;
  double score = 0;
  bool is_match = false;      // the query's own image
  // "data:image/png;base64,..." (the page loads nothing); anything not starting with
  // "data:image/" is left out of the page.
  std::string thumbnail_uri;
};

struct GalleryQuery {
  std::string text;
  std::string target_key;   // image the caption belongs to
  int64_t target_rank = 0;  // 1-based rank of that image among all candidates
  std::vector<GalleryHit> hits;  // best first
};

struct RunGallery {
  std::string model_kind;  // "unimo", "vilbert", ...
  std::string scoring;     // how images were ranked, in words
  std::string data;        // the captions file the queries and images came from
  int64_t num_images = 0;  // candidates every query was ranked against
  std::vector<GalleryQuery> queries;
  // Projection input, pair k = (image_embeddings[k], text_embeddings[k]): an image and
  // one of its captions. Empty when the model has no separate embeddings.
  std::vector<std::vector<double>> image_embeddings, text_embeddings;
  std::vector<std::string> image_labels, text_labels;
  std::string note;  // why something is missing (e.g. "ViLBERT scores pairs jointly")
};

// The "Retrieval gallery" section for `galleries[i]` of run `run_names[i]` (runs
// without a gallery are skipped; "" when none has one), then the "Embedding
// projection" section for the runs that have embeddings. Queries are
// <div class="gallery-query">, hits <figure class="hit" data-rank=.. data-match=..>
// with an <img src="data:image/png;base64,..."> and its score.
std::string gallery_sections(const std::vector<std::string>& run_names, const std::vector<const RunGallery*>& galleries);

}  // namespace cotrain::eval
