// Inputs found by fuzz/image_fuzz.cpp (issue 8), kept as regression tests; the
// crashing files are under tests/data/fuzz/.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/io/image.h"
#include "support/support.h"

using namespace cotrain;
namespace ct = cotrain::testing;

namespace {

// A binary PPM (P6) with 16-bit samples, big-endian as the format says.
std::string ppm16(int w, int h, const std::vector<uint16_t>& samples) {
  std::string out = "P6\n" + std::to_string(w) + " " + std::to_string(h) + "\n65535\n";
  for (uint16_t s : samples) {
    out += static_cast<char>(s >> 8);
    out += static_cast<char>(s & 0xFF);
  }
  return out;
}

}  // namespace

// stb_image's conversion to four channels read past its buffer on 16-bit PNM files
// (ASan: heap-buffer-overflow in stbi__convert_16_to_8) and gave garbage pixels;
// decode_image now takes the file's channels and expands them itself.
TEST(ImageFuzzRegression, SixteenBitPnmDecodesToItsOwnValues) {
  // 2x1 pixels whose samples have equal high and low bytes, so that the expected
  // 8-bit values (0x12, 0x34, 0xFF), (0x00, 0x80, 0x40) do not depend on the byte
  // order stb_image reads them in. The old path gave other values (and overread).
  const io::Image image = io::decode_image(ppm16(2, 1, {0x1212, 0x3434, 0xFFFF, 0x0000, 0x8080, 0x4040}), "t.ppm");
  ASSERT_EQ(image.width, 2);
  ASSERT_EQ(image.height, 1);
  ASSERT_EQ(image.rgb.size(), 6u);
  const float expected[6] = {0x12 / 255.0f, 0x34 / 255.0f, 1.0f, 0.0f, 0x80 / 255.0f, 0x40 / 255.0f};
  for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(image.rgb[i], expected[i]) << i;
}

TEST(ImageFuzzRegression, CrashingPnmFromTheFuzzer) {
  const std::string path = ct::source_path("tests/data/fuzz/image-pnm-16bit.ppm");
  const std::string bytes = read_whole_file(path);
  ASSERT_EQ(bytes.substr(0, 2), "P6");
  // A 2x2 16-bit file with too few samples for its size: decoded (stb pads) or
  // refused, but never a read past a buffer.
  try {
    const io::Image image = io::decode_image(bytes, path);
    EXPECT_EQ(image.width, 2);
    EXPECT_EQ(image.rgb.size(), 12u);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(ImageFuzzRegression, GreyAndGreyAlphaExpandLikeRgba) {
  // P5 (grey) 8-bit: value 0x80 -> all three channels.
  std::string pgm = "P5\n1 1\n255\n";
  pgm += '\x80';
  const io::Image grey = io::decode_image(pgm, "g.pgm");
  ASSERT_EQ(grey.rgb.size(), 3u);
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(grey.rgb[c], 128.0f / 255.0f);
}

// A 27-byte PPM header claiming 25266x2520 pixels: stb_image allocated and padded
// them all (about 1 GB with the float copy; a fuzzer timeout). Refused up front now.
TEST(ImageFuzzRegression, HeaderClaimingMorePixelsThanTheFileHoldsIsRefused) {
  const std::string path = ct::source_path("tests/data/fuzz/image-ppm-claims-64m-pixels.ppm");
  const std::string bytes = read_whole_file(path);
  ASSERT_EQ(bytes.size(), 27u);
  try {
    io::decode_image(bytes, path);
    FAIL() << "expected a cotrain::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("25266x2520 pixels, more than a file of 27 bytes"), std::string::npos)
        << e.what();
  }
  // A large image that does hold its pixels still decodes: 1200x1000 grey PGM.
  std::string pgm = "P5\n1200 1000\n255\n";
  pgm += std::string(1200 * 1000, '\x40');
  const io::Image big = io::decode_image(pgm, "big.pgm");
  EXPECT_EQ(big.width, 1200);
  EXPECT_FLOAT_EQ(big.rgb.back(), 64.0f / 255.0f);
}

// "P6 777777777777..." : stb_image's PNM header parser overflowed an int (UBSan).
TEST(ImageFuzzRegression, PnmHeaderNumberTooLongIsRefused) {
  const std::string path = ct::source_path("tests/data/fuzz/image-pnm-header-int-overflow.ppm");
  try {
    io::decode_image(read_whole_file(path), path);
    FAIL() << "expected a cotrain::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("PNM header number too large"), std::string::npos) << e.what();
  }
  // Nine digits still reach the decoder (and fail there on the missing pixels).
  EXPECT_THROW(io::decode_image("P6\n# comment\n123456789 1\n255\n", "nine.ppm"), Error);
  const io::Image ok = io::decode_image(std::string("P6 1 1 255\n") + std::string("\x10\x20\x30", 3), "ok.ppm");
  EXPECT_FLOAT_EQ(ok.rgb[2], 0x30 / 255.0f);
}
