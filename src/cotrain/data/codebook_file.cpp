#include "cotrain/data/codebook_file.h"

#include <ATen/ATen.h>

#include <cmath>

#include <fmt/format.h>

#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"

namespace cotrain::data {

void save_codebook(const std::string& path, const Codebook& cb, const std::map<std::string, std::string>& extra) {
  if (cb.centroids.size() != static_cast<std::size_t>(cb.k * cb.dim)) fail("{}: inconsistent codebook", path);
  at::Tensor centroids = at::from_blob(const_cast<float*>(cb.centroids.data()), {cb.k, cb.dim}, at::kFloat).clone();
  std::map<std::string, std::string> meta = extra;
  meta["cotrain"] = "patch-codebook";
  meta["temperature"] = fmt::format("{}", cb.temperature);
  io::save_safetensors(path, {{"centroids", centroids}}, meta);
}

Codebook load_codebook(const std::string& path) {
  io::SafetensorsFile file = io::load_safetensors(path);
  auto it = file.tensors.find("centroids");
  if (it == file.tensors.end()) fail("{}: no \"centroids\" tensor (not a cotrain codebook?)", path);
  const at::Tensor& t = it->second;
  if (t.scalar_type() != at::kFloat || t.dim() != 2 || t.size(0) <= 0 || t.size(1) <= 0)
    fail("{}: \"centroids\" must be a non-empty F32 [k, dim] tensor", path);
  Codebook cb;
  cb.k = t.size(0);
  cb.dim = t.size(1);
  at::Tensor c = t.contiguous();
  cb.centroids.assign(c.data_ptr<float>(), c.data_ptr<float>() + cb.k * cb.dim);
  for (float v : cb.centroids)
    if (!std::isfinite(v)) fail("{}: non-finite centroid value", path);
  auto temp = file.metadata.find("temperature");
  if (temp == file.metadata.end()) fail("{}: metadata lacks \"temperature\"", path);
  try {
    cb.temperature = std::stof(temp->second);
  } catch (...) {
    fail("{}: temperature '{}' is not a number", path, temp->second);
  }
  if (!(cb.temperature > 0) || !std::isfinite(cb.temperature))
    fail("{}: temperature {} is not positive", path, cb.temperature);
  return cb;
}

}  // namespace cotrain::data
