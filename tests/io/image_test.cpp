#include <gtest/gtest.h>

#include <cmath>

#include "cotrain/core/error.h"
#include "cotrain/io/image.h"
#include "support/support.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>

using namespace cotrain;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::string encode_png(int w, int h, int channels, const std::vector<unsigned char>& pixels) {
  std::string out;
  EXPECT_TRUE(stbi_write_png_to_func(append_bytes, &out, w, h, channels, pixels.data(), w * channels));
  return out;
}

std::string error_of(const std::string& bytes, const std::string& name) {
  try {
    io::decode_image(bytes, name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Image, RgbaCompositedOnWhite) {
  // 2x1: opaque red, and half-transparent blue.
  std::vector<unsigned char> px = {255, 0, 0, 255, 0, 0, 255, 128};
  io::Image img = io::decode_image(encode_png(2, 1, 4, px), "two.png");
  ASSERT_EQ(img.width, 2);
  ASSERT_EQ(img.height, 1);
  EXPECT_FLOAT_EQ(img.pixel(0, 0)[0], 1.0f);
  EXPECT_FLOAT_EQ(img.pixel(0, 0)[1], 0.0f);
  const float a = 128.0f / 255.0f;
  EXPECT_NEAR(img.pixel(0, 1)[0], 1.0f - a, 1e-6f);  // red channel: white showing through
  EXPECT_NEAR(img.pixel(0, 1)[2], a + (1.0f - a), 1e-6f);
  // Fully transparent black is white, not black.
  io::Image clear = io::decode_image(encode_png(1, 1, 4, {0, 0, 0, 0}), "clear.png");
  EXPECT_FLOAT_EQ(clear.pixel(0, 0)[0], 1.0f);
}

TEST(Image, GrayAndRgbAndJpegDecode) {
  io::Image gray = io::decode_image(encode_png(2, 2, 1, {0, 51, 102, 255}), "g.png");
  EXPECT_FLOAT_EQ(gray.pixel(0, 1)[0], 0.2f);
  EXPECT_FLOAT_EQ(gray.pixel(0, 1)[2], 0.2f);
  io::Image rgb = io::decode_image(encode_png(1, 1, 3, {10, 20, 30}), "c.png");
  EXPECT_FLOAT_EQ(rgb.pixel(0, 0)[1], 20.0f / 255.0f);
  // A flat 16x16 JPEG decodes to (nearly) its colour.
  std::vector<unsigned char> flat(16 * 16 * 3);
  for (std::size_t i = 0; i < flat.size(); i += 3) flat[i] = 200, flat[i + 1] = 100, flat[i + 2] = 50;
  std::string jpg;
  ASSERT_TRUE(stbi_write_jpg_to_func(append_bytes, &jpg, 16, 16, 3, flat.data(), 95));
  io::Image j = io::decode_image(jpg, "flat.jpg");
  EXPECT_EQ(j.width, 16);
  EXPECT_NEAR(j.pixel(8, 8)[0], 200.0f / 255.0f, 0.02f);
  EXPECT_NEAR(j.pixel(8, 8)[2], 50.0f / 255.0f, 0.02f);
}

TEST(Image, BrokenPngNamesTheFileAndReason) {
  std::vector<unsigned char> px(8 * 8 * 4, 77);
  std::string png = encode_png(8, 8, 4, px);
  std::string dir = scratch_dir("image_broken");
  write_file(dir + "/cut.png", png.substr(0, png.size() / 2));
  try {
    io::load_image(dir + "/cut.png");
    FAIL() << "truncated PNG decoded";
  } catch (const Error& e) {
    std::string why = e.what();
    EXPECT_NE(why.find("cut.png: cannot decode image: "), std::string::npos) << why;
  }
  auto garbage = error_of("this is not an image at all", "notes.png");
  EXPECT_NE(garbage.find("notes.png: not a readable image"), std::string::npos) << garbage;
  EXPECT_NE(error_of("", "empty.png").find("empty.png: empty image file"), std::string::npos);
  // Corrupt compressed data (header intact) is caught too.
  std::string flipped = png;
  for (std::size_t i = 45; i < 60 && i < flipped.size(); ++i) flipped[i] = static_cast<char>(~flipped[i]);
  EXPECT_NE(error_of(flipped, "flip.png").find("flip.png:"), std::string::npos);
  try {
    io::load_image(dir + "/missing.png");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos);
  }
}

TEST(Image, ResizeIdentityAndConstant) {
  io::Image img;
  img.width = 3;
  img.height = 2;
  img.rgb = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f, 0.0f, 0.5f, 0.25f, 0.75f, 0.125f, 0.6f, 0.4f, 0.2f};
  EXPECT_EQ(io::resize_bilinear(img, 3, 2).rgb, img.rgb);
  io::Image flat;
  flat.width = flat.height = 5;
  flat.rgb.assign(75, 0.375f);
  for (float v : io::resize_bilinear(flat, 7, 3).rgb) EXPECT_FLOAT_EQ(v, 0.375f);
  EXPECT_THROW(io::resize_bilinear(img, 0, 4), Error);
}
