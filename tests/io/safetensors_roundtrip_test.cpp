// Writing then reading safetensors gives back every dtype bit for bit.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"
#include "support/support.h"

namespace cotrain::io {
namespace {

uint64_t header_length(const std::string& bytes) {
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  return n;
}

TensorMap every_dtype() {
  at::manual_seed(7);
  TensorMap t;
  t["f64"] = at::randn({3, 5}, at::kDouble);
  t["f32"] = at::randn({2, 3, 4});
  t["f16"] = at::randn({7}).to(at::kHalf);
  t["bf16"] = at::randn({4, 3}).to(at::kBFloat16);
  t["i64"] = at::randint(-(1LL << 62), 1LL << 62, {5}, at::kLong);
  t["i32"] = at::randint(-(1LL << 31), (1LL << 31) - 1, {3, 2}, at::kInt);
  t["i16"] = at::randint(-32768, 32767, {9}, at::kShort);
  t["i8"] = at::randint(-128, 127, {11}, at::kChar);
  t["u8"] = at::randint(0, 255, {13}, at::kByte);
  t["bool"] = at::randint(0, 2, {3, 3}, at::kLong).to(at::kBool);
  t["scalar"] = at::scalar_tensor(3.25, at::kFloat);
  t["empty"] = at::empty({0, 4});
  // Special floats survive as bit patterns.
  t["special"] = at::tensor({0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, 3.4e38f});
  return t;
}

void expect_same(const TensorMap& want, const TensorMap& got) {
  ASSERT_EQ(want.size(), got.size());
  for (const auto& [name, w] : want) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(got.count(name));
    const at::Tensor& g = got.at(name);
    EXPECT_EQ(g.scalar_type(), w.scalar_type());
    EXPECT_EQ(g.sizes(), w.sizes());
    ASSERT_EQ(g.nbytes(), w.nbytes());
    // Bitwise: NaN != NaN under at::equal. Empty tensors may have no storage at all
    // (null data pointers, which memcmp must not be given; UBSan found it).
    if (g.nbytes() > 0) EXPECT_EQ(0, std::memcmp(g.data_ptr(), w.contiguous().data_ptr(), g.nbytes()));
  }
}

TEST(SafetensorsRoundTrip, EveryDtypeBitForBit) {
  TensorMap tensors = every_dtype();
  const std::string bytes = serialize_safetensors(tensors, {{"note", "x"}});
  SafetensorsFile back = parse_safetensors(bytes, "mem");
  expect_same(tensors, back.tensors);
  EXPECT_EQ(back.metadata.at("note"), "x");
  EXPECT_EQ(back.metadata.at("format"), "pt");  // added for transformers
}

TEST(SafetensorsRoundTrip, HeaderPaddedAndTensorsAligned) {
  const TensorMap tensors = every_dtype();
  const std::string bytes = serialize_safetensors(tensors);
  const uint64_t n = header_length(bytes);
  EXPECT_EQ(n % 8, 0u);
  auto header = nlohmann::json::parse(bytes.substr(8, n));  // trailing spaces are JSON whitespace
  // Every tensor starts at a multiple of its element size, and the data is packed.
  uint64_t covered = 0;
  for (const auto& [name, t] : tensors) {
    auto offsets = header.at(name).at("data_offsets");
    uint64_t begin = offsets[0], end = offsets[1];
    EXPECT_EQ(begin % t.element_size(), 0u) << name;
    EXPECT_EQ(end - begin, t.nbytes()) << name;
    EXPECT_EQ(header.at(name).at("shape").get<std::vector<int64_t>>(), t.sizes().vec()) << name;
    covered += end - begin;
  }
  EXPECT_EQ(covered, bytes.size() - 8 - n);
  EXPECT_EQ(header.at("f16").at("dtype"), "F16");
  EXPECT_EQ(header.at("bf16").at("dtype"), "BF16");
  EXPECT_EQ(header.at("bool").at("dtype"), "BOOL");
}

TEST(SafetensorsRoundTrip, FileOnDiskAndOverwrite) {
  const std::string dir = testing::scratch_dir("st-roundtrip");
  const std::string path = dir + "/w.safetensors";
  save_safetensors(path, {{"a", at::ones({2})}});
  TensorMap second = every_dtype();
  save_safetensors(path, second, {{"k", "v"}});
  SafetensorsFile back = load_safetensors(path);
  expect_same(second, back.tensors);
  EXPECT_EQ(back.metadata.at("k"), "v");
}

TEST(SafetensorsRoundTrip, NonContiguousAndGradTensors) {
  at::Tensor base = at::arange(12, at::kFloat).reshape({3, 4});
  TensorMap t{{"transposed", base.t()}, {"sliced", base.index({at::indexing::Slice(), 1})},
              {"grad", base.clone().requires_grad_(true)}};
  SafetensorsFile back = parse_safetensors(serialize_safetensors(t), "mem");
  EXPECT_TRUE(at::equal(back.tensors.at("transposed"), base.t()));
  EXPECT_TRUE(at::equal(back.tensors.at("sliced"), base.index({at::indexing::Slice(), 1})));
  EXPECT_TRUE(at::equal(back.tensors.at("grad"), base));
  EXPECT_FALSE(back.tensors.at("grad").requires_grad());
}

TEST(SafetensorsRoundTrip, WriterRejectsWhatCannotBeWritten) {
  EXPECT_THROW(serialize_safetensors({{"c", at::zeros({2}, at::kComplexFloat)}}), Error);
  EXPECT_THROW(serialize_safetensors({{"__metadata__", at::zeros({2})}}), Error);
  EXPECT_THROW(serialize_safetensors({{"", at::zeros({2})}}), Error);
  EXPECT_THROW(serialize_safetensors({{"u", at::Tensor()}}), Error);
  EXPECT_THROW(serialize_safetensors({{"bad\xff", at::zeros({2})}}), Error);  // not UTF-8
  try {
    save_safetensors(testing::scratch_dir("st-reject") + "/x.safetensors", {{"c", at::zeros({2}, at::kComplexFloat)}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tensor c"), std::string::npos) << e.what();
  }
}

TEST(SafetensorsRoundTrip, EmptyFileHasOnlyMetadata) {
  SafetensorsFile back = parse_safetensors(serialize_safetensors({}), "mem");
  EXPECT_TRUE(back.tensors.empty());
}

}  // namespace
}  // namespace cotrain::io
