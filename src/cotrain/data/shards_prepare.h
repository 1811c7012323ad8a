// `cotrain prepare`'s work: captions + regions (from a detector's TSV files, or from
// the images themselves through the grid extractor) into binary shards (shards.h).
// OUT/shard-00000.bin, ... hold up to images_per_shard images each, every image with
// its captions; OUT/index.json lists the shards and how they were made.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cotrain/data/captions.h"
#include "cotrain/data/regions.h"
#include "cotrain/data/regions_grid.h"

namespace cotrain::data {

struct PrepareOptions {
  std::string out_dir;
  std::int64_t images_per_shard = 10000;
  bool skip_bad_records = false;  // --on-bad-record skip: count and go on instead of failing
  int threads = 1;                // image decoding threads (grid mode)
  // Applied to each image's regions before writing (e.g. codebook class targets).
  std::function<void(Regions&)> transform;
  std::string description;        // stored in index.json ("source")
};

struct PrepareStats {
  std::int64_t images = 0, captions = 0, shards = 0;
  std::int64_t skipped_images = 0, skipped_captions = 0;
  std::int64_t feature_dim = 0, num_classes = 0;
};

// Regions from bottom-up-attention TSV files, joined to captions by image key
// (Caption::image_key == image_id). With no captions every image is written (an
// image-only corpus). A caption whose image has no regions is an error naming
// `caption_source` and the record (or skipped).
PrepareStats prepare_from_tsv(const std::vector<Caption>& captions, const std::string& caption_source,
                              const std::vector<std::string>& tsv_files, const PrepareOptions& options);

// Regions extracted from the caption's image files (Caption::image_path) with the grid
// extractor; `extra_images` are added as images without captions (keyed by path).
// A missing or undecodable image is an error naming `caption_source`, the record and
// the file (or skipped).
PrepareStats prepare_from_images(const std::vector<Caption>& captions, const std::string& caption_source,
                                 const std::vector<std::string>& extra_images, const GridOptions& grid,
                                 const PrepareOptions& options);

// Image files (.png, .jpg, .jpeg, any case) directly inside `dir`, sorted; or, when
// `dir_or_list` is a file, the paths it lists one per line (relative to its folder).
std::vector<std::string> list_images(const std::string& dir_or_list);

}  // namespace cotrain::data
