// Regions without a detector: the image is resized to S x S and cut into a G x G
// grid of patches. Each patch is one region: its feature is the patch's normalised
// pixels, average-pooled to P x P (so D = P*P*3 stays modest), flattened in
// row, column, channel order; its box is the patch's rectangle in the original
// image's pixels. This lets users without a Faster R-CNN train UNIMO and ViLBERT
// end to end on raw images.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "cotrain/data/regions.h"
#include "cotrain/io/image.h"

namespace cotrain::data {

struct GridOptions {
  std::int64_t image_size = 64;  // S: the image is resized to S x S first
  std::int64_t grid = 4;         // G: G x G patches, row-major (top-left first)
  std::int64_t pool = 8;         // P: each patch average-pooled to P x P (D = 192); S/G a multiple of P
  // Per-channel normalisation (x - mean) / std; the ImageNet constants by default.
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};

  std::int64_t feature_dim() const { return pool * pool * 3; }
};

// Throws cotrain::Error when the sizes do not divide.
void check_grid_options(const GridOptions& options);

Regions grid_regions(const io::Image& image, const GridOptions& options, std::string image_id);

}  // namespace cotrain::data
