#include "cotrain/objectives/region_masking.h"

#include <algorithm>

namespace cotrain::objectives {

double box_iou(const float* a, const float* b) {
  const double iw = std::max(0.0, static_cast<double>(std::min(a[2], b[2])) - std::max(a[0], b[0]));
  const double ih = std::max(0.0, static_cast<double>(std::min(a[3], b[3])) - std::max(a[1], b[1]));
  const double inter = iw * ih;
  const double area_a = std::max(0.0, static_cast<double>(a[2]) - a[0]) * std::max(0.0, static_cast<double>(a[3]) - a[1]);
  const double area_b = std::max(0.0, static_cast<double>(b[2]) - b[0]) * std::max(0.0, static_cast<double>(b[3]) - b[1]);
  const double uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<bool> choose_masked_regions(const float* boxes, int64_t n, double prob, double iou_threshold, Rng& rng) {
  std::vector<bool> anchor(static_cast<size_t>(n), false);
  bool any = false;
  for (int64_t i = 0; i < n; ++i) any |= (anchor[static_cast<size_t>(i)] = rng.bernoulli(prob));
  if (!any && n > 0) anchor[static_cast<size_t>(rng.below(n))] = true;
  std::vector<bool> masked = anchor;
  for (int64_t i = 0; i < n; ++i) {
    if (masked[static_cast<size_t>(i)]) continue;
    for (int64_t a = 0; a < n; ++a)
      if (anchor[static_cast<size_t>(a)] && box_iou(boxes + 4 * i, boxes + 4 * a) > iou_threshold) {
        masked[static_cast<size_t>(i)] = true;
        break;
      }
  }
  return masked;
}

}  // namespace cotrain::objectives
