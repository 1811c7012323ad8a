// Binary shards of image-text data: what `cotrain prepare` writes and training reads
// through a memory map, so that loading regions costs a page fault, not a parse.
//
// Format (all integers little-endian; float32 IEEE little-endian):
//   header, 64 bytes:
//     0  char[8] magic "CTVLSHD1"     8  u32 version (1)
//     12 u32 feature_dim D            16 u32 num_classes C (0: no class targets)
//     20 u32 reserved (0)             24 u64 num_images
//     32 u64 num_captions             40 u64 image_table_offset
//     48 u64 caption_table_offset     56 u64 file_size
//   data: per image, 64-byte aligned float32 arrays boxes[N*4] (x1,y1,x2,y2 pixels),
//     features[N*D], class_probs[N*C]; then UTF-8 strings (image keys, captions, meta).
//   image table, num_images entries of 48 bytes:
//     u64 key_offset, u32 key_len, u32 num_boxes, u32 width, u32 height,
//     u64 boxes_offset, u64 features_offset, u64 classes_offset (0 when C = 0)
//   caption table, num_captions entries of 32 bytes:
//     u64 text_offset, u32 text_len, u32 image_index, u64 meta_offset, u32 meta_len,
//     u32 reserved; meta is JSON {"paraphrases", "tags", "concept", "split",
//     "image_path"} with empty fields left out (meta_len 0 when all are empty).
// Offsets are absolute file offsets. Opening a shard validates the header and every
// table entry (ranges inside the file, alignment, image indices, sizes), so that no
// accessor can read out of bounds on a corrupt or truncated file; the float values
// themselves are checked by verify_values() (the writer refuses non-finite ones).
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "cotrain/data/captions.h"
#include "cotrain/data/regions.h"

namespace cotrain::data {

inline constexpr char kShardMagic[9] = "CTVLSHD1";
inline constexpr std::uint32_t kShardVersion = 1;

class ShardWriter {
 public:
  // Creates `path` (written to a temporary name and renamed by finish()).
  ShardWriter(std::string path, std::int64_t feature_dim, std::int64_t num_classes);
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Appends an image's regions (checked with check_regions, D and C must match);
  // returns its index in this shard.
  std::uint32_t add_image(const Regions& regions);
  // Appends a caption of an image added before.
  void add_caption(const Caption& caption, std::uint32_t image_index);
  // Writes the tables and the header, flushes, renames into place.
  void finish();

  std::int64_t num_images() const { return static_cast<std::int64_t>(images_.size()); }
  std::int64_t num_captions() const { return static_cast<std::int64_t>(captions_.size()); }

 private:
  struct ImageEntry {
    std::uint64_t key_offset = 0;
    std::uint32_t key_len = 0, num_boxes = 0, width = 0, height = 0;
    std::uint64_t boxes = 0, features = 0, classes = 0;
  };
  struct CaptionEntry {
    std::uint64_t text_offset = 0;
    std::uint32_t text_len = 0, image_index = 0;
    std::uint64_t meta_offset = 0;
    std::uint32_t meta_len = 0;
  };
  std::uint64_t append_floats(const std::vector<float>& values);
  std::uint64_t add_string(const std::string& s);  // offset within strings_

  std::string path_, temp_path_;
  std::ofstream out_;
  std::uint64_t position_ = 0;
  std::int64_t feature_dim_, num_classes_;
  std::string strings_;
  std::vector<ImageEntry> images_;
  std::vector<std::uint64_t> image_key_offsets_;  // within strings_, fixed up in finish()
  std::vector<CaptionEntry> captions_;
  bool finished_ = false;
};

// Zero-copy view of one image's regions inside a mapped shard.
struct RegionsView {
  std::string_view image_key;
  std::int64_t width = 0, height = 0, num_boxes = 0, feature_dim = 0, num_classes = 0;
  const float* boxes = nullptr;        // num_boxes x 4
  const float* features = nullptr;     // num_boxes x feature_dim
  const float* class_probs = nullptr;  // num_boxes x num_classes, or null

  Regions to_regions() const;  // a copy
};

struct CaptionView {
  std::string_view text;
  std::uint32_t image_index = 0;
  std::string_view meta;  // JSON, may be empty
};

class ShardReader {
 public:
  // Maps and validates `path`; throws cotrain::Error naming the file and the entry.
  explicit ShardReader(const std::string& path);
  ~ShardReader();
  ShardReader(ShardReader&& other) noexcept;
  ShardReader& operator=(ShardReader&&) = delete;
  ShardReader(const ShardReader&) = delete;

  const std::string& path() const { return path_; }
  std::int64_t num_images() const { return num_images_; }
  std::int64_t num_captions() const { return num_captions_; }
  std::int64_t feature_dim() const { return feature_dim_; }
  std::int64_t num_classes() const { return num_classes_; }

  RegionsView image(std::int64_t index) const;        // throws on an index out of range
  CaptionView caption(std::int64_t index) const;
  // The caption with its meta parsed (paraphrases, tags, ...); record = index.
  Caption caption_record(std::int64_t index) const;
  // Scans every float for NaN / infinity; throws naming the image.
  void verify_values() const;

 private:
  const unsigned char* at(std::uint64_t offset) const { return data_ + offset; }
  std::string path_;
  const unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
  std::int64_t num_images_ = 0, num_captions_ = 0, feature_dim_ = 0, num_classes_ = 0;
  std::uint64_t image_table_ = 0, caption_table_ = 0;
};

// All shards of a `cotrain prepare` output folder (DIR/shard-*.bin, in name order),
// or the single shard file given, with global image and caption numbering.
class ShardSet {
 public:
  explicit ShardSet(const std::string& dir_or_file);
  std::int64_t num_images() const { return image_starts_.back(); }
  std::int64_t num_captions() const { return caption_starts_.back(); }
  std::int64_t feature_dim() const { return shards_.front().feature_dim(); }
  std::int64_t num_classes() const { return shards_.front().num_classes(); }
  RegionsView image(std::int64_t index) const;
  CaptionView caption(std::int64_t index) const;  // image_index is global
  Caption caption_record(std::int64_t index) const;
  const std::vector<ShardReader>& shards() const { return shards_; }

 private:
  std::vector<ShardReader> shards_;
  std::vector<std::int64_t> image_starts_{0}, caption_starts_{0};
};

}  // namespace cotrain::data
