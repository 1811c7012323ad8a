#include "cotrain/io/image.h"

#include <algorithm>
#include <cctype>
#include <climits>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"

// stb_image compiled into this file only, with internal linkage, so that another
// library linking its own copy cannot clash. Debian: libstb-dev (/usr/include/stb).
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace cotrain::io {

namespace {
// Larger images are almost certainly corrupt headers; refusing them avoids a
// multi-gigabyte allocation on a bad file.
constexpr std::int64_t kMaxPixels = 1LL << 28;
// Even the best compression (a blank PNG or JPEG) stays well under this many pixels
// per byte of file; a header claiming more describes pixels the file does not hold,
// which stb_image would allocate and pad (found by fuzz/image_fuzz.cpp: a 27-byte PPM
// header asking for 64 million pixels). Small images are always allowed.
constexpr std::int64_t kMaxPixelsPerByte = 4096;
constexpr std::int64_t kAlwaysAllowedPixels = 1LL << 20;

// stb_image reads the numbers of a PNM header (P5/P6) into an int without checking
// for overflow (UBSan, found by fuzz/image_fuzz.cpp); a number of more than 9 digits
// is refused before stb sees it.
bool pnm_header_number_too_long(const std::string& bytes) {
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return false;
  std::size_t i = 2;
  for (int number = 0; number < 3; ++number) {
    while (i < bytes.size() && (std::isspace(static_cast<unsigned char>(bytes[i])) || bytes[i] == '#')) {
      if (bytes[i] == '#')
        while (i < bytes.size() && bytes[i] != '\n' && bytes[i] != '\r') ++i;
      else
        ++i;
    }
    std::size_t digits = 0;
    while (i < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[i]))) ++i, ++digits;
    if (digits > 9) return true;
    if (digits == 0) return false;
  }
  return false;
}
}  // namespace

bool image_header_size(const std::string& bytes, std::int64_t& width, std::int64_t& height) {
  if (bytes.empty() || bytes.size() > static_cast<std::size_t>(INT_MAX) || pnm_header_number_too_long(bytes))
    return false;
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h,
                             &channels))
    return false;
  width = w;
  height = h;
  return true;
}

Image decode_image(const std::string& bytes, const std::string& name) {
  if (bytes.empty()) fail("{}: empty image file", name);
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) fail("{}: image file too large ({} bytes)", name, bytes.size());
  if (pnm_header_number_too_long(bytes)) fail("{}: not a readable image: PNM header number too large", name);
  int w = 0, h = 0, channels = 0;
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  if (!stbi_info_from_memory(data, static_cast<int>(bytes.size()), &w, &h, &channels))
    fail("{}: not a readable image: {}", name, stbi_failure_reason());
  const std::int64_t pixel_count = static_cast<std::int64_t>(w) * h;
  if (pixel_count > kMaxPixels) fail("{}: image of {}x{} pixels is too large", name, w, h);
  if (pixel_count > kAlwaysAllowedPixels && pixel_count / kMaxPixelsPerByte > static_cast<std::int64_t>(bytes.size()))
    fail("{}: header says {}x{} pixels, more than a file of {} bytes can hold (truncated or corrupt)", name, w, h,
         bytes.size());
  // The pixels come in the file's own channel count (1 grey, 2 grey+alpha, 3 RGB,
  // 4 RGBA) and are expanded here: stb_image's own conversion to 4 channels reads
  // past its buffer on 16-bit PNM files (found by fuzz/image_fuzz.cpp).
  stbi_uc* pixels = stbi_load_from_memory(data, static_cast<int>(bytes.size()), &w, &h, &channels, 0);
  if (!pixels) fail("{}: cannot decode image: {}", name, stbi_failure_reason());
  if (channels < 1 || channels > 4) {
    stbi_image_free(pixels);
    fail("{}: cannot decode image: {} channels", name, channels);
  }
  Image image;
  image.width = w;
  image.height = h;
  const std::size_t n = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  image.rgb.resize(3 * n);
  constexpr float inv = 1.0f / 255.0f;
  const bool grey = channels <= 2, has_alpha = channels == 2 || channels == 4;
  for (std::size_t i = 0; i < n; ++i) {
    const stbi_uc* p = pixels + static_cast<std::size_t>(channels) * i;
    const float alpha = has_alpha ? p[channels - 1] * inv : 1.0f;
    const float white = 1.0f - alpha;
    for (int c = 0; c < 3; ++c) image.rgb[3 * i + c] = p[grey ? 0 : c] * inv * alpha + white;
  }
  stbi_image_free(pixels);
  return image;
}

Image load_image(const std::string& path) { return decode_image(read_whole_file(path), path); }

namespace {

// Source positions and weights of each output coordinate along one axis.
struct Taps {
  std::vector<std::int64_t> lo, hi;
  std::vector<float> frac;
};

Taps make_taps(std::int64_t in, std::int64_t out) {
  Taps t;
  t.lo.resize(out);
  t.hi.resize(out);
  t.frac.resize(out);
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  for (std::int64_t i = 0; i < out; ++i) {
    double src = std::max(0.0, (i + 0.5) * scale - 0.5);
    auto lo = std::min<std::int64_t>(static_cast<std::int64_t>(src), in - 1);
    t.lo[i] = lo;
    t.hi[i] = std::min<std::int64_t>(lo + 1, in - 1);
    t.frac[i] = static_cast<float>(src - static_cast<double>(lo));
  }
  return t;
}

}  // namespace

Image resize_bilinear(const Image& image, std::int64_t width, std::int64_t height) {
  if (width <= 0 || height <= 0) fail("resize: target size {}x{} is not positive", width, height);
  if (image.width <= 0 || image.height <= 0) fail("resize: empty source image");
  if (width == image.width && height == image.height) return image;
  const Taps xs = make_taps(image.width, width), ys = make_taps(image.height, height);
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.resize(static_cast<std::size_t>(3 * width * height));
  for (std::int64_t y = 0; y < height; ++y) {
    const float fy = ys.frac[y];
    const float* row0 = image.pixel(ys.lo[y], 0);
    const float* row1 = image.pixel(ys.hi[y], 0);
    float* dst = out.pixel(y, 0);
    for (std::int64_t x = 0; x < width; ++x) {
      const float fx = xs.frac[x];
      const std::int64_t a = 3 * xs.lo[x], b = 3 * xs.hi[x];
      for (int c = 0; c < 3; ++c) {
        const float top = row0[a + c] + (row0[b + c] - row0[a + c]) * fx;
        const float bottom = row1[a + c] + (row1[b + c] - row1[a + c]) * fx;
        dst[3 * x + c] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

}  // namespace cotrain::io
