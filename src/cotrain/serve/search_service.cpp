#include "cotrain/serve/search_service.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "cotrain/core/error.h"
#include "cotrain/text/utf8.h"

namespace cotrain::serve {

namespace {
double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

SearchService::SearchService(EmbeddingIndex index, std::unique_ptr<UnimoEncoder> encoder, SearchLimits limits)
    : index_(std::move(index)), encoder_(std::move(encoder)), limits_(limits) {
  if (encoder_->dim() != index_.dim())
    fail("{}: embeddings of width {}, but the model {} gives {}", index_.dir, index_.dim(), encoder_->model_dir(),
         encoder_->dim());
}

void SearchService::use_approximate(ApproximatePair approximate) { approximate_ = std::move(approximate); }

nlohmann::json SearchService::info() const {
  nlohmann::json info = {{"images", index_.images.size(0)}, {"texts", index_.texts.size(0)}, {"dim", index_.dim()},
                         {"model", encoder_->model_dir()},  {"max_k", limits_.max_k}, {"search", "exact"}};
  if (!approximate_.empty()) {
    const ApproximateIndex& any = approximate_.images ? *approximate_.images : *approximate_.texts;
    info["search"] = any.options().kind;
    info["approximate"] = any.describe();
    if (index_.meta.contains("approximate") && index_.meta["approximate"].contains("recall"))
      info["approximate"]["recall"] = index_.meta["approximate"]["recall"];
  }
  return info;
}

std::vector<Hit> SearchService::rank(const at::Tensor& matrix, const ApproximateIndex* approximate,
                                     const at::Tensor& q, int64_t k) const {
  if (!approximate) return exact_search(matrix, q, k);
  auto hits = approximate->search(q, k);
  if (hits.empty()) return hits;
  // The exact score of each candidate, so that scores and the order among the
  // candidates are those exact search gives (the index only chose the candidates).
  std::vector<int64_t> ids;
  for (const auto& h : hits) ids.push_back(h.index);
  at::Tensor rows = matrix.index_select(0, at::tensor(ids, at::kLong));
  at::Tensor scores = at::mv(rows, q.to(matrix.scalar_type()).reshape({-1})).contiguous();
  const float* s = scores.data_ptr<float>();
  for (size_t i = 0; i < hits.size(); ++i) hits[i].score = static_cast<double>(s[i]);
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  });
  return hits;
}

void SearchService::check_k(int64_t k) const {
  if (k < 1 || k > limits_.max_k) throw BadRequest(400, "k must be between 1 and " + std::to_string(limits_.max_k));
}

at::Tensor SearchService::encode_query_text(const std::string& query) {
  if (query.find_first_not_of(" \t\r\n") == std::string::npos) throw BadRequest(400, "the query is empty");
  if (query.size() > limits_.max_query_bytes)
    throw BadRequest(413, "the query is longer than " + std::to_string(limits_.max_query_bytes) + " bytes");
  if (!text::is_valid_utf8(query)) throw BadRequest(400, "the query is not valid UTF-8");
  std::lock_guard<std::mutex> lock(model_mutex_);
  try {
    return encoder_->encode_texts({query})[0];
  } catch (const Error& e) {
    throw BadRequest(400, std::string("the query cannot be encoded: ") + e.what());
  }
}

at::Tensor SearchService::encode_query_image(const std::string& bytes) {
  if (bytes.empty()) throw BadRequest(400, "no image in the request");
  int64_t w = 0, h = 0;
  if (!image_header_size(bytes, w, h)) throw BadRequest(415, "the upload is not a PNG, JPEG, GIF, BMP or similar image");
  if (w < 1 || h < 1 || w * h > limits_.max_image_pixels)
    throw BadRequest(413, "the image is " + std::to_string(w) + "x" + std::to_string(h) + ", at most " +
                              std::to_string(limits_.max_image_pixels) + " pixels are accepted");
  io::Image image;
  try {
    image = io::decode_image(bytes, "upload");
  } catch (const Error& e) {
    throw BadRequest(400, e.what());
  }
  std::lock_guard<std::mutex> lock(model_mutex_);
  return encoder_->encode_images({image})[0];
}

nlohmann::json SearchService::answer(const char* mode, nlohmann::json query, const at::Tensor& q, bool images,
                                     int64_t k, double started_ms) {
  const ApproximateIndex* approximate = images ? approximate_.images.get() : approximate_.texts.get();
  const auto hits = rank(images ? index_.images : index_.texts, approximate, q, k);
  nlohmann::json results = nlohmann::json::array();
  for (size_t r = 0; r < hits.size(); ++r) {
    const auto& h = hits[r];
    nlohmann::json item = {{"rank", r + 1}, {"score", h.score}};
    if (images) {
      const auto& e = index_.image_entries[static_cast<size_t>(h.index)];
      item["id"] = e.id;
      item["thumbnail"] = e.thumbnail.empty() ? nlohmann::json() : nlohmann::json("/" + e.thumbnail);
    } else {
      const auto& e = index_.text_entries[static_cast<size_t>(h.index)];
      item["id"] = e.id;
      item["text"] = e.text;
      if (!e.image.empty()) item["image"] = e.image;
    }
    results.push_back(std::move(item));
  }
  return {{"mode", mode},
          {"query", std::move(query)},
          {"k", k},
          {"took_ms", now_ms() - started_ms},
          {"search", approximate ? approximate->options().kind : std::string("exact")},
          {"results", std::move(results)}};
}

nlohmann::json SearchService::text_to_images(const std::string& query, int64_t k) {
  const double t0 = now_ms();
  check_k(k);
  return answer("text-to-images", query, encode_query_text(query), true, k, t0);
}

nlohmann::json SearchService::text_to_texts(const std::string& query, int64_t k) {
  const double t0 = now_ms();
  check_k(k);
  return answer("text-to-texts", query, encode_query_text(query), false, k, t0);
}

nlohmann::json SearchService::image_to_texts(const std::string& bytes, int64_t k) {
  const double t0 = now_ms();
  check_k(k);
  return answer("image-to-texts", nlohmann::json(), encode_query_image(bytes), false, k, t0);
}

nlohmann::json SearchService::image_to_images(const std::string& bytes, int64_t k) {
  const double t0 = now_ms();
  check_k(k);
  return answer("image-to-images", nlohmann::json(), encode_query_image(bytes), true, k, t0);
}

}  // namespace cotrain::serve
