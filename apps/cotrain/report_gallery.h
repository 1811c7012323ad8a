// `cotrain report --gallery-data CAPTIONS`: the retrieval gallery and embedding
// projection of each vision-language run (eval/report_gallery.h draws them). The
// models are run through the retrieval scorers of `cotrain eval --task retrieval`
// (tasks/retrieval_scorer.h), so a run is ranked exactly as it is evaluated:
// UNIMO by the cosine of its separate image and text embeddings, ViLBERT by its
// alignment head over each (image, caption) pair. Only UNIMO has embeddings to
// project.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cotrain/data/regions_grid.h"
#include "cotrain/eval/report_gallery.h"
#include "cotrain/tasks/retrieval_scorer.h"

namespace cotrain::app {

struct GalleryOptions {
  std::string data;            // captions file (JSONL, COCO or Karpathy)
  std::string splits;          // keep only these splits (comma-separated); empty: all
  int64_t max_images = 200;    // candidate images: the first N distinct images of the file
  int64_t queries = 6;         // captions used as queries, spread evenly over the images
  int64_t top = 5;             // images shown per query
  int64_t projection_pairs = 150;  // (image, caption) pairs projected (UNIMO)
  int64_t thumbnail_size = 64;
  int64_t batch_size = 64;
  data::GridOptions grid;      // as the models were trained (cotrain prepare --from-images)
};

// The candidate images (as grid regions, with thumbnails) and their captions.
struct GallerySource {
  std::string path;
  tasks::RetrievalSet set;
  std::vector<std::string> thumbnails;        // data: URI per image
  std::vector<int64_t> first_text_of_image;   // a caption of each image
};

// Reads the captions file; errors name the file and the record.
GallerySource load_gallery_source(const GalleryOptions& options);

// The gallery of the run in `run_dir`, or nullopt (with `why`) when the run is not a
// model the retrieval scorers know (a text-only run, or no checkpoint yet).
std::optional<eval::RunGallery> run_gallery(const std::string& run_dir, const GallerySource& source,
                                            const GalleryOptions& options, std::string& why);

}  // namespace cotrain::app
