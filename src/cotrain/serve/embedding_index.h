// An index folder: a collection embedded once by `cotrain index`, searched by
// `cotrain serve`.
//   INDEX/index.json              {"format": "cotrain-index", "version": 1, "model",
//                                  "dim", "images", "texts", "grid", "max_regions"}
//   INDEX/embeddings.safetensors  "images" [N, H], "texts" [M, H] float32, unit rows
//   INDEX/ids.json                {"images": [{"id", "thumbnail"|null, "source"}],
//                                  "texts": [{"id", "text", "image"?}]}
//   INDEX/thumbs/NNNNNNN.png      small previews of the images (when pixels were given)
// A thumbnail path is always "thumbs/<digits>.png"; anything else in ids.json is
// refused on load, so a tampered index cannot point the server outside its folder.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cotrain::serve {

struct ImageEntry {
  std::string id;
  std::string thumbnail;  // "thumbs/0000001.png", or "" when there is none
  std::string source;     // where the image came from (file path or TSV:line)
};

struct TextEntry {
  std::string id;
  std::string text;
  std::string image;  // the image id it describes (captions), or ""
};

struct EmbeddingIndex {
  std::string dir;
  nlohmann::json meta;
  at::Tensor images;  // [N, H] float32 (undefined-free: [0, H] when none)
  at::Tensor texts;   // [M, H]
  std::vector<ImageEntry> image_entries;
  std::vector<TextEntry> text_entries;
  int64_t dim() const { return images.size(1); }
};

// "thumbs/0000042.png" for image number 42.
std::string thumbnail_name(int64_t number);
// True for exactly the names thumbnail_name produces ("thumbs/" + 7+ digits + ".png").
bool is_thumbnail_name(const std::string& name);

void write_index(const std::string& dir, const EmbeddingIndex& index);
// Validates everything (shapes against ids, thumbnail names, finite unit rows);
// errors name the file and the entry.
EmbeddingIndex load_index(const std::string& dir);

struct Hit {
  int64_t index = 0;
  double score = 0;
};
// Exact search: the k rows of `matrix` with the largest dot product with `query`
// ([H], unit length), best first; ties keep the lower row first.
std::vector<Hit> exact_search(const at::Tensor& matrix, const at::Tensor& query, int64_t k);

}  // namespace cotrain::serve
