// The search behind `cotrain serve`, free of HTTP so that it is tested directly:
// queries are encoded with the UNIMO model and ranked against an index by exact
// cosine similarity, or through an approximate index (approximate_store.h) when
// one is in use. Every answer is JSON:
//   {"mode", "query", "k", "took_ms", "search": "exact" | "ivf" | "hnsw",
//    "results": [{"rank", "id", "score", "thumbnail" (URL or null) | "text", ...}]}
// Bad queries throw BadRequest with the HTTP status and a reason for the user.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "cotrain/io/image.h"
#include "cotrain/serve/approximate_store.h"
#include "cotrain/serve/embedding_index.h"
#include "cotrain/serve/unimo_encoder.h"

namespace cotrain::serve {

struct BadRequest : std::runtime_error {
  BadRequest(int status_code, const std::string& reason) : std::runtime_error(reason), status(status_code) {}
  int status;
};

struct SearchLimits {
  int64_t max_k = 100;
  size_t max_query_bytes = 2000;
  int64_t max_image_pixels = 4096 * 4096;  // decoded size of an uploaded image
};

class SearchService {
 public:
  // Fails when the index and the model disagree (dimension, region features).
  SearchService(EmbeddingIndex index, std::unique_ptr<UnimoEncoder> encoder, SearchLimits limits = {});

  nlohmann::json text_to_images(const std::string& query, int64_t k);
  nlohmann::json text_to_texts(const std::string& query, int64_t k);
  // `image_bytes`: an encoded PNG/JPEG/... file.
  nlohmann::json image_to_texts(const std::string& image_bytes, int64_t k);
  nlohmann::json image_to_images(const std::string& image_bytes, int64_t k);

  // From then on queries go to these approximate indexes (a null side stays exact);
  // hits are re-scored with the exact dot product. An empty pair: exact search.
  void use_approximate(ApproximatePair approximate);

  nlohmann::json info() const;
  const EmbeddingIndex& index() const { return index_; }
  const SearchLimits& limits() const { return limits_; }

 private:
  at::Tensor encode_query_text(const std::string& query);
  at::Tensor encode_query_image(const std::string& bytes);
  nlohmann::json answer(const char* mode, nlohmann::json query, const at::Tensor& q, bool images, int64_t k,
                        double started_ms);
  void check_k(int64_t k) const;
  std::vector<Hit> rank(const at::Tensor& matrix, const ApproximateIndex* approximate, const at::Tensor& q,
                        int64_t k) const;

  EmbeddingIndex index_;
  std::unique_ptr<UnimoEncoder> encoder_;
  SearchLimits limits_;
  ApproximatePair approximate_;
  std::mutex model_mutex_;  // one forward pass at a time: the machine's cores go to it
};

// Width and height from an encoded image's header (io::image_header_size).
using io::image_header_size;

}  // namespace cotrain::serve
