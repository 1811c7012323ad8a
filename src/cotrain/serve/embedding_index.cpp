#include "cotrain/serve/embedding_index.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/io/safetensors.h"

namespace cotrain::serve {

std::string thumbnail_name(int64_t number) { return fmt::format("thumbs/{:07d}.png", number); }

bool is_thumbnail_name(const std::string& name) {
  const std::string prefix = "thumbs/", suffix = ".png";
  if (name.size() < prefix.size() + 7 + suffix.size()) return false;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  for (size_t i = prefix.size(); i < name.size() - suffix.size(); ++i)
    if (name[i] < '0' || name[i] > '9') return false;
  return true;
}

void write_index(const std::string& dir, const EmbeddingIndex& index) {
  ensure_directory(dir);
  nlohmann::json ids = {{"images", nlohmann::json::array()}, {"texts", nlohmann::json::array()}};
  for (const auto& e : index.image_entries)
    ids["images"].push_back({{"id", e.id},
                             {"thumbnail", e.thumbnail.empty() ? nlohmann::json() : nlohmann::json(e.thumbnail)},
                             {"source", e.source}});
  for (const auto& e : index.text_entries) {
    nlohmann::json t = {{"id", e.id}, {"text", e.text}};
    if (!e.image.empty()) t["image"] = e.image;
    ids["texts"].push_back(t);
  }
  io::TensorMap tensors = {{"images", index.images.to(at::kFloat).contiguous()},
                           {"texts", index.texts.to(at::kFloat).contiguous()}};
  io::save_safetensors(join_path(dir, "embeddings.safetensors"), tensors, {{"format", "cotrain-index"}});
  write_file_atomically(join_path(dir, "ids.json"),
                        ids.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  nlohmann::json meta = index.meta.is_object() ? index.meta : nlohmann::json::object();
  meta["format"] = "cotrain-index";
  meta["version"] = 1;
  meta["dim"] = index.images.size(1);
  meta["images"] = index.images.size(0);
  meta["texts"] = index.texts.size(0);
  // Written last: an interrupted `cotrain index` leaves no index.json, hence no index.
  write_file_atomically(join_path(dir, "index.json"), meta.dump(2) + "\n");
}

namespace {

std::string string_field(const nlohmann::json& entry, const char* key, const std::string& where, bool required) {
  if (!entry.contains(key) || entry[key].is_null()) {
    if (required) fail("{}: no \"{}\"", where, key);
    return "";
  }
  if (!entry[key].is_string()) fail("{}: \"{}\" must be a string", where, key);
  return entry[key].get<std::string>();
}

void check_matrix(const at::Tensor& t, size_t rows, int64_t dim, const std::string& path, const char* name) {
  if (t.dim() != 2 || t.size(0) != static_cast<int64_t>(rows) || t.size(1) != dim)
    fail("{}: \"{}\" has shape [{}], expected [{}, {}] (ids.json and index.json)", path, name,
         fmt::join(t.sizes().vec(), ", "), rows, dim);
  if (t.numel() && !at::isfinite(t).all().item<bool>()) fail("{}: \"{}\" holds non-finite values", path, name);
}

}  // namespace

EmbeddingIndex load_index(const std::string& dir) {
  EmbeddingIndex index;
  index.dir = dir;
  const std::string meta_path = join_path(dir, "index.json");
  if (!is_regular_file(meta_path)) fail("{}: no index.json (write an index with 'cotrain index')", dir);
  index.meta = nlohmann::json::parse(read_whole_file(meta_path), nullptr, false);
  if (!index.meta.is_object() || index.meta.value("format", "") != "cotrain-index")
    fail("{}: not a cotrain index (\"format\" must be \"cotrain-index\")", meta_path);
  if (!index.meta.contains("dim") || !index.meta["dim"].is_number_integer() || index.meta["dim"].get<int64_t>() <= 0)
    fail("{}: \"dim\" must be a positive integer", meta_path);
  const int64_t dim = index.meta["dim"].get<int64_t>();

  const std::string ids_path = join_path(dir, "ids.json");
  nlohmann::json ids = nlohmann::json::parse(read_whole_file(ids_path), nullptr, false);
  if (!ids.is_object() || !ids.contains("images") || !ids["images"].is_array() || !ids.contains("texts") ||
      !ids["texts"].is_array())
    fail("{}: expected {{\"images\": [...], \"texts\": [...]}}", ids_path);
  for (size_t i = 0; i < ids["images"].size(); ++i) {
    const auto& e = ids["images"][i];
    const std::string where = fmt::format("{}: images[{}]", ids_path, i);
    if (!e.is_object()) fail("{}: not an object", where);
    ImageEntry entry{string_field(e, "id", where, true), string_field(e, "thumbnail", where, false),
                     string_field(e, "source", where, false)};
    if (!entry.thumbnail.empty() && !is_thumbnail_name(entry.thumbnail))
      fail("{}: thumbnail \"{}\" is not of the form thumbs/NNNNNNN.png", where, entry.thumbnail);
    index.image_entries.push_back(std::move(entry));
  }
  for (size_t i = 0; i < ids["texts"].size(); ++i) {
    const auto& e = ids["texts"][i];
    const std::string where = fmt::format("{}: texts[{}]", ids_path, i);
    if (!e.is_object()) fail("{}: not an object", where);
    index.text_entries.push_back(
        {string_field(e, "id", where, true), string_field(e, "text", where, true), string_field(e, "image", where, false)});
  }

  const std::string emb_path = join_path(dir, "embeddings.safetensors");
  auto file = io::load_safetensors(emb_path);
  for (const char* name : {"images", "texts"}) {
    auto it = file.tensors.find(name);
    if (it == file.tensors.end()) fail("{}: no tensor \"{}\"", emb_path, name);
    if (it->second.scalar_type() != at::kFloat) fail("{}: \"{}\" must be float32", emb_path, name);
  }
  index.images = file.tensors.at("images").contiguous();
  index.texts = file.tensors.at("texts").contiguous();
  check_matrix(index.images, index.image_entries.size(), dim, emb_path, "images");
  check_matrix(index.texts, index.text_entries.size(), dim, emb_path, "texts");
  return index;
}

std::vector<Hit> exact_search(const at::Tensor& matrix, const at::Tensor& query, int64_t k) {
  const int64_t n = matrix.size(0);
  k = std::min(k, n);
  if (k <= 0) return {};
  at::Tensor scores = at::mv(matrix, query.to(matrix.scalar_type()).reshape({-1})).contiguous();
  const float* s = scores.data_ptr<float>();
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // partial_sort with an index tie-break: the same ranking every time.
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t a, int64_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  std::vector<Hit> hits;
  for (int64_t i = 0; i < k; ++i) hits.push_back({order[static_cast<size_t>(i)], static_cast<double>(s[order[static_cast<size_t>(i)]])});
  return hits;
}

}  // namespace cotrain::serve
