// Which regions masked region modelling hides (unimo.md): each region is chosen with
// probability p (at least one per image); then every region whose IoU with a chosen
// one exceeds the threshold is hidden too, so that an overlapping box cannot give the
// answer away. Hidden regions get zero features; the loss predicts all of them.
// Plain C++ (no LibTorch): the batch builder and its tests use it.
#pragma once
#include <cstdint>
#include <vector>

#include "cotrain/core/rng.h"

namespace cotrain::objectives {

// Intersection over union of two x1,y1,x2,y2 boxes (0 when both are empty).
double box_iou(const float* a, const float* b);

// boxes: n x 4 (x1, y1, x2, y2, any consistent unit). Draws one uniform per region in
// order, then (if none was chosen) one index; the IoU expansion is one pass against
// the chosen anchors (not transitive).
std::vector<bool> choose_masked_regions(const float* boxes, int64_t n, double prob, double iou_threshold, Rng& rng);

}  // namespace cotrain::objectives
