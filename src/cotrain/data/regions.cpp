#include "cotrain/data/regions.h"

#include <cmath>

#include <fmt/format.h>

namespace cotrain::data {

std::array<float, 5> encode_box(const float* box, std::int64_t width, std::int64_t height) {
  const float w = static_cast<float>(width), h = static_cast<float>(height);
  const float area = (box[2] - box[0]) * (box[3] - box[1]);
  return {box[0] / w, box[1] / h, box[2] / w, box[3] / h, area / (w * h)};
}

std::vector<float> encode_boxes(const Regions& regions) {
  std::vector<float> out(static_cast<std::size_t>(regions.num_boxes) * 5);
  for (std::int64_t i = 0; i < regions.num_boxes; ++i) {
    auto e = encode_box(regions.box(i), regions.width, regions.height);
    for (int k = 0; k < 5; ++k) out[5 * i + k] = e[k];
  }
  return out;
}

double box_tolerance(std::int64_t size) { return 2.0 + 0.01 * static_cast<double>(size); }

namespace {

bool check_finite(const std::vector<float>& values, std::int64_t row_size, const char* field,
                  std::string& why) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      why = fmt::format("{}: non-finite value {} at box {}, column {}", field, values[i],
                        static_cast<std::int64_t>(i) / row_size, static_cast<std::int64_t>(i) % row_size);
      return false;
    }
  }
  return true;
}

}  // namespace

bool check_regions(const Regions& r, std::string& why) {
  if (r.width <= 0 || r.height <= 0) {
    why = fmt::format("image_w/image_h: image size {}x{} is not positive", r.width, r.height);
    return false;
  }
  if (r.num_boxes <= 0) {
    why = fmt::format("num_boxes: {} (need at least one box)", r.num_boxes);
    return false;
  }
  if (r.feature_dim <= 0) {
    why = fmt::format("features: feature size {} is not positive", r.feature_dim);
    return false;
  }
  const auto n = static_cast<std::size_t>(r.num_boxes);
  if (r.boxes.size() != n * 4) {
    why = fmt::format("boxes: {} values, expected num_boxes x 4 = {}", r.boxes.size(), n * 4);
    return false;
  }
  if (r.features.size() != n * static_cast<std::size_t>(r.feature_dim)) {
    why = fmt::format("features: {} values, expected num_boxes x {} = {}", r.features.size(), r.feature_dim,
                      n * static_cast<std::size_t>(r.feature_dim));
    return false;
  }
  if (r.num_classes < 0 || r.class_probs.size() != n * static_cast<std::size_t>(r.num_classes)) {
    why = fmt::format("cls_prob: {} values, expected num_boxes x {} = {}", r.class_probs.size(), r.num_classes,
                      n * static_cast<std::size_t>(std::max<std::int64_t>(r.num_classes, 0)));
    return false;
  }
  if (!check_finite(r.boxes, 4, "boxes", why) || !check_finite(r.features, r.feature_dim, "features", why) ||
      !check_finite(r.class_probs, std::max<std::int64_t>(r.num_classes, 1), "cls_prob", why))
    return false;
  const double tw = box_tolerance(r.width), th = box_tolerance(r.height);
  for (std::int64_t i = 0; i < r.num_boxes; ++i) {
    const float* b = r.box(i);
    if (b[0] > b[2] || b[1] > b[3]) {
      why = fmt::format("boxes: box {} ({}, {}, {}, {}) has x1 > x2 or y1 > y2", i, b[0], b[1], b[2], b[3]);
      return false;
    }
    if (b[0] < -tw || b[2] > r.width + tw || b[1] < -th || b[3] > r.height + th) {
      why = fmt::format(
          "boxes: box {} ({}, {}, {}, {}) lies outside the {}x{} image (image_w and image_h swapped?)", i, b[0],
          b[1], b[2], b[3], r.width, r.height);
      return false;
    }
  }
  return true;
}

}  // namespace cotrain::data
