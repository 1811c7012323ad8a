#include "cotrain/serve/thumbnail.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cotrain/core/error.h"

// stb_image_write compiled into this file only, with internal linkage (like
// stb_image in io/image.cpp). Debian: libstb-dev.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBI_WRITE_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace cotrain::serve {

namespace {
void append(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}
}  // namespace

std::string encode_png(const io::Image& image) {
  if (image.width <= 0 || image.height <= 0) fail("thumbnail: empty image");
  std::vector<unsigned char> bytes(static_cast<size_t>(image.width * image.height * 3));
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<unsigned char>(std::lround(std::clamp(image.rgb[i], 0.0f, 1.0f) * 255.0f));
  std::string out;
  if (!stbi_write_png_to_func(append, &out, static_cast<int>(image.width), static_cast<int>(image.height), 3,
                              bytes.data(), static_cast<int>(image.width * 3)))
    fail("thumbnail: PNG encoding failed");
  return out;
}

std::string thumbnail_png(const io::Image& image, int64_t max_side) {
  const int64_t longest = std::max(image.width, image.height);
  if (longest <= max_side) return encode_png(image);
  const double scale = static_cast<double>(max_side) / static_cast<double>(longest);
  const int64_t w = std::max<int64_t>(1, std::llround(static_cast<double>(image.width) * scale));
  const int64_t h = std::max<int64_t>(1, std::llround(static_cast<double>(image.height) * scale));
  // Bilinear without antialiasing aliases on large downscales: halve first with a
  // 2x2 box filter until within a factor of two of the target.
  io::Image current = image;
  while (current.width >= 2 * w && current.height >= 2 * h) {
    io::Image half;
    half.width = current.width / 2;
    half.height = current.height / 2;
    half.rgb.resize(static_cast<size_t>(half.width * half.height * 3));
    for (int64_t y = 0; y < half.height; ++y)
      for (int64_t x = 0; x < half.width; ++x)
        for (int c = 0; c < 3; ++c)
          half.pixel(y, x)[c] = 0.25f * (current.pixel(2 * y, 2 * x)[c] + current.pixel(2 * y, 2 * x + 1)[c] +
                                         current.pixel(2 * y + 1, 2 * x)[c] + current.pixel(2 * y + 1, 2 * x + 1)[c]);
    current = std::move(half);
  }
  return encode_png(io::resize_bilinear(current, w, h));
}

}  // namespace cotrain::serve
