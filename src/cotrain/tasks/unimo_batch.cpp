#include "cotrain/tasks/unimo_batch.h"

#include <ATen/ATen.h>

#include <fmt/ranges.h>

#include <cmath>

#include "cotrain/core/error.h"

namespace cotrain::tasks {

nlohmann::json tensor_to_json(const at::Tensor& t) {
  nlohmann::json shape = t.sizes().vec();
  if (t.is_floating_point()) {
    at::Tensor c = t.detach().to(at::kFloat).contiguous();
    const float* p = c.data_ptr<float>();
    return {{"shape", shape}, {"data", std::vector<float>(p, p + c.numel())}};
  }
  at::Tensor c = t.detach().to(at::kLong).contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  return {{"shape", shape}, {"data", std::vector<int64_t>(p, p + c.numel())}};
}

at::Tensor tensor_from_json(const nlohmann::json& j, const std::string& where, bool integer) {
  if (!j.is_object() || !j.contains("shape") || !j.contains("data") || !j["shape"].is_array() || !j["data"].is_array())
    fail("batch: {}: expected {{\"shape\": [...], \"data\": [...]}}", where);
  std::vector<int64_t> shape;
  int64_t numel = 1;
  for (const auto& s : j["shape"]) {
    if (!s.is_number_integer() || s.get<int64_t>() < 0 || s.get<int64_t>() > (int64_t{1} << 31))
      fail("batch: {}: bad shape entry", where);
    shape.push_back(s.get<int64_t>());
    numel *= shape.back();
    if (numel > (int64_t{1} << 31)) fail("batch: {}: tensor too large", where);
  }
  const auto& data = j["data"];
  if (static_cast<int64_t>(data.size()) != numel)
    fail("batch: {}: {} values for a shape holding {}", where, data.size(), numel);
  if (integer) {
    std::vector<int64_t> v;
    v.reserve(data.size());
    for (const auto& x : data) {
      if (!x.is_number_integer()) fail("batch: {}: values must be integers", where);
      v.push_back(x.get<int64_t>());
    }
    return at::tensor(v, at::kLong).view(shape);
  }
  std::vector<float> v;
  v.reserve(data.size());
  for (const auto& x : data) {
    if (!x.is_number()) fail("batch: {}: values must be numbers", where);
    const double d = x.get<double>();
    if (!std::isfinite(d)) fail("batch: {}: values must be finite", where);
    v.push_back(static_cast<float>(d));
  }
  return at::tensor(v, at::kFloat).view(shape);
}

namespace {

void put(nlohmann::json& part, const char* key, const at::Tensor& t) {
  if (t.defined()) part[key] = tensor_to_json(t);
}

nlohmann::json text_json(const UnimoTextPart& p) {
  nlohmann::json j = nlohmann::json::object();
  put(j, "input_ids", p.input_ids);
  put(j, "attention_mask", p.attention_mask);
  put(j, "labels", p.labels);
  return j;
}

void image_json(nlohmann::json& j, const UnimoImagePart& p) {
  put(j, "features", p.features);
  put(j, "boxes", p.boxes);
  put(j, "region_mask", p.region_mask);
  put(j, "masked", p.masked);
  put(j, "target_features", p.target_features);
  put(j, "target_classes", p.target_classes);
}

at::Tensor get(const nlohmann::json& part, const std::string& name, const char* key, bool integer, bool required) {
  if (!part.contains(key)) {
    if (required) fail("batch: {}.{}: missing", name, key);
    return {};
  }
  return tensor_from_json(part[key], name + "." + key, integer);
}

void expect_shape(const at::Tensor& t, std::vector<int64_t> shape, const std::string& where) {
  if (!t.defined()) return;
  if (t.sizes().vec() != shape) fail("batch: {}: shape [{}] does not fit the part", where, fmt::join(t.sizes(), ", "));
}

UnimoTextPart read_text(const nlohmann::json& part, const std::string& name, bool with_labels) {
  UnimoTextPart p;
  p.input_ids = get(part, name, "input_ids", true, true);
  if (p.input_ids.dim() != 2 || p.input_ids.size(1) == 0) fail("batch: {}.input_ids: must be [B, M] with M > 0", name);
  p.attention_mask = get(part, name, "attention_mask", true, true);
  expect_shape(p.attention_mask, p.input_ids.sizes().vec(), name + ".attention_mask");
  p.labels = get(part, name, "labels", true, with_labels);
  expect_shape(p.labels, p.input_ids.sizes().vec(), name + ".labels");
  return p;
}

UnimoImagePart read_image(const nlohmann::json& part, const std::string& name, bool with_targets) {
  UnimoImagePart p;
  p.features = get(part, name, "features", false, true);
  if (p.features.dim() != 3) fail("batch: {}.features: must be [B, N, D]", name);
  const int64_t B = p.features.size(0), N = p.features.size(1), D = p.features.size(2);
  p.boxes = get(part, name, "boxes", false, true);
  expect_shape(p.boxes, {B, N, 5}, name + ".boxes");
  p.region_mask = get(part, name, "region_mask", true, true);
  expect_shape(p.region_mask, {B, N}, name + ".region_mask");
  p.masked = get(part, name, "masked", true, with_targets);
  expect_shape(p.masked, {B, N}, name + ".masked");
  p.target_features = get(part, name, "target_features", false, with_targets);
  expect_shape(p.target_features, {B, N, D}, name + ".target_features");
  p.target_classes = get(part, name, "target_classes", false, false);
  if (p.target_classes.defined() && (p.target_classes.dim() != 3 || p.target_classes.size(0) != B ||
                                     p.target_classes.size(1) != N))
    fail("batch: {}.target_classes: must be [B, N, C]", name);
  return p;
}

}  // namespace

nlohmann::json unimo_batch_to_json(const UnimoBatch& b) {
  nlohmann::json j = {{"task", "unimo"}, {"examples", b.examples}};
  if (b.text.defined()) j["text"] = text_json(b.text);
  if (b.image.defined()) {
    j["image"] = nlohmann::json::object();
    image_json(j["image"], b.image);
  }
  if (b.pair_text.defined()) {
    j["pair"] = text_json(b.pair_text);
    image_json(j["pair"], b.pair_image);
  }
  if (b.cmcl_images.defined()) {
    nlohmann::json c = text_json(b.cmcl_texts);
    image_json(c, b.cmcl_images);
    c["cell_image"] = tensor_to_json(b.cells.image);
    c["cell_text"] = tensor_to_json(b.cells.text);
    c["cell_kind"] = tensor_to_json(b.cells.kind);
    j["cmcl"] = c;
  }
  return j;
}

UnimoBatch unimo_batch_from_json(const nlohmann::json& j) {
  if (!j.is_object() || j.value("task", "") != "unimo") fail("batch: not a unimo batch (\"task\" must be \"unimo\")");
  UnimoBatch b;
  if (j.contains("text")) b.text = read_text(j["text"], "text", true);
  if (j.contains("image")) b.image = read_image(j["image"], "image", true);
  if (j.contains("pair")) {
    b.pair_text = read_text(j["pair"], "pair", true);
    b.pair_image = read_image(j["pair"], "pair", true);
    if (b.pair_text.input_ids.size(0) != b.pair_image.features.size(0))
      fail("batch: pair: the text and image parts have different batch sizes");
  }
  if (j.contains("cmcl")) {
    const auto& c = j["cmcl"];
    b.cmcl_texts = read_text(c, "cmcl", false);
    b.cmcl_images = read_image(c, "cmcl", false);
    b.cells.image = get(c, "cmcl", "cell_image", true, true);
    b.cells.text = get(c, "cmcl", "cell_text", true, true);
    b.cells.kind = get(c, "cmcl", "cell_kind", true, true);
    if (b.cells.image.dim() != 2) fail("batch: cmcl.cell_image: must be [A, K]");
    expect_shape(b.cells.text, b.cells.image.sizes().vec(), "cmcl.cell_text");
    expect_shape(b.cells.kind, b.cells.image.sizes().vec(), "cmcl.cell_kind");
  }
  if (b.image.defined() && b.pair_image.defined() && b.image.features.size(2) != b.pair_image.features.size(2))
    fail("batch: image and pair features have different sizes");
  b.examples = j.value("examples", int64_t{0});
  return b;
}

}  // namespace cotrain::tasks
