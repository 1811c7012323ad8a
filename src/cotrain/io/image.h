// Raw images (PNG, JPEG, and the other formats stb_image reads) as RGB floats in
// [0, 1], height x width x 3, row-major. Transparent pixels are composited on white:
// emoji artwork is RGBA with a transparent background, and a model should see the
// drawing on a plain page, not whatever colour the transparent pixels happen to hold.
// No LibTorch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cotrain::io {

struct Image {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::vector<float> rgb;  // height x width x 3

  float* pixel(std::int64_t y, std::int64_t x) { return rgb.data() + 3 * (y * width + x); }
  const float* pixel(std::int64_t y, std::int64_t x) const { return rgb.data() + 3 * (y * width + x); }
};

// Decodes an encoded image held in memory; `name` (usually the path) is used in
// errors, which carry the decoder's reason ("bad zlib header", "unknown image type"...).
Image decode_image(const std::string& bytes, const std::string& name);
Image load_image(const std::string& path);

// Width and height from an encoded image's header, without decoding the pixels and
// with the same header checks as decode_image; false when the bytes are not an
// image format we read.
bool image_header_size(const std::string& bytes, std::int64_t& width, std::int64_t& height);

// Bilinear resampling with half-pixel centres and edge clamping (the convention of
// PyTorch's interpolate(mode="bilinear", align_corners=False) and of most image
// libraries without antialiasing).
Image resize_bilinear(const Image& image, std::int64_t width, std::int64_t height);

}  // namespace cotrain::io
