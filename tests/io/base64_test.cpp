#include <gtest/gtest.h>

#include <cstring>

#include "cotrain/io/base64.h"

using namespace cotrain::io;

namespace {

std::string decode_ok(const std::string& text) {
  std::vector<std::uint8_t> out;
  std::string why;
  EXPECT_TRUE(base64_decode(text, out, why)) << text << ": " << why;
  return std::string(out.begin(), out.end());
}

std::string decode_error(const std::string& text) {
  std::vector<std::uint8_t> out;
  std::string why;
  EXPECT_FALSE(base64_decode(text, out, why)) << text;
  return why;
}

}  // namespace

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    EXPECT_EQ(base64_encode(plain.data(), plain.size()), coded);
    EXPECT_EQ(decode_ok(coded), plain);
  }
  EXPECT_EQ(base64_encode("", 0), "");
}

TEST(Base64, RoundTripsAllByteValues) {
  std::string bytes;
  for (int i = 0; i < 256 * 3 + 2; ++i) bytes += static_cast<char>((i * 37 + 11) & 0xFF);
  for (std::size_t len : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{100}, bytes.size()}) {
    std::string part = bytes.substr(0, len);
    EXPECT_EQ(decode_ok(base64_encode(part.data(), part.size())), part) << len;
  }
}

TEST(Base64, RejectsInvalidCharacterWithOffset) {
  auto why = decode_error("Zm9v*mFy");
  EXPECT_NE(why.find("'*'"), std::string::npos) << why;
  EXPECT_NE(why.find("offset 4"), std::string::npos) << why;
  // URL-safe alphabet and whitespace are not the standard form.
  EXPECT_NE(decode_error("Zm9v-_Fy").find("'-'"), std::string::npos);
  EXPECT_NE(decode_error("Zm9v\nmFy").find("0x0a"), std::string::npos);
}

TEST(Base64, RejectsBadLengthAndPadding) {
  EXPECT_NE(decode_error("Zm9vYmF").find("multiple of 4"), std::string::npos);
  EXPECT_NE(decode_error("").find("empty"), std::string::npos);
  EXPECT_NE(decode_error("Zg==Zm8=").find("padding"), std::string::npos);  // '=' in the middle
  EXPECT_NE(decode_error("Z===").find("padding"), std::string::npos);
  EXPECT_NE(decode_error("====").find("padding"), std::string::npos);
  EXPECT_NE(decode_error("Zm=v").find("padding"), std::string::npos);
}

TEST(Base64, FloatsAreLittleEndianFloat32) {
  const float values[] = {1.0f, -2.5f, 3.25e-7f, 65504.0f};
  std::string coded = base64_encode_floats(values, 4);
  // 1.0f is 00 00 80 3f little-endian.
  std::vector<std::uint8_t> bytes;
  std::string why;
  ASSERT_TRUE(base64_decode(coded, bytes, why));
  ASSERT_EQ(bytes.size(), 16u);
  EXPECT_EQ(bytes[2], 0x80);
  EXPECT_EQ(bytes[3], 0x3f);
  std::vector<float> back;
  ASSERT_TRUE(base64_decode_floats(coded, back, why));
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(std::memcmp(back.data(), values, 16), 0);
  // 3 bytes: not whole float32 values.
  EXPECT_FALSE(base64_decode_floats("AAAA", back, why));
  EXPECT_NE(why.find("float32"), std::string::npos) << why;
}
