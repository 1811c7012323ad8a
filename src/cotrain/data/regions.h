// Regions of one image: what a detector (bottom-up attention) or the grid-patch
// extractor produces, and what UNIMO's and ViLBERT's visual embeddings consume.
// Plain float arrays, no LibTorch, so readers and tools stay light.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace cotrain::data {

struct Regions {
  std::string image_id;
  std::int64_t width = 0;    // image size in pixels (the box coordinates' frame)
  std::int64_t height = 0;
  std::int64_t num_boxes = 0;
  std::int64_t feature_dim = 0;   // D
  std::int64_t num_classes = 0;   // C; 0 when there are no class probabilities
  std::vector<float> boxes;        // num_boxes x 4: x1, y1, x2, y2 in pixels
  std::vector<float> features;     // num_boxes x D
  std::vector<float> class_probs;  // num_boxes x C, or empty

  const float* box(std::int64_t i) const { return boxes.data() + 4 * i; }
  const float* feature(std::int64_t i) const { return features.data() + feature_dim * i; }
  const float* class_prob(std::int64_t i) const { return class_probs.data() + num_classes * i; }
};

// UNIMO / ViLBERT 5-d location of a box: x1/W, y1/H, x2/W, y2/H, area/(W*H).
std::array<float, 5> encode_box(const float* box, std::int64_t width, std::int64_t height);
// All boxes of `regions`, num_boxes x 5, row-major.
std::vector<float> encode_boxes(const Regions& regions);

// How far (in pixels) a box may stick out of the image and still be accepted:
// detectors round and pad, so exact containment would reject real files.
double box_tolerance(std::int64_t size);

// Checks the invariants every consumer relies on: positive size, at least one box,
// array sizes N*4, N*D, N*C, finite values, x1<=x2, y1<=y2 within the image (with
// box_tolerance). On failure returns false with the field and the reason in `why`.
bool check_regions(const Regions& regions, std::string& why);

}  // namespace cotrain::data
