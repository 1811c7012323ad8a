// Every malformed safetensors file is a cotrain::Error naming the file (and the
// tensor), never a crash, another exception type or an out-of-bounds read.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"
#include "io/safetensors_test_util.h"
#include "support/support.h"

namespace cotrain::io {
namespace {

using test::make_safetensors;

// Parses `bytes`, expecting an Error whose message contains each of `parts`.
void expect_error(const std::string& bytes, std::initializer_list<const char*> parts) {
  try {
    parse_safetensors(bytes, "bad.safetensors");
    ADD_FAILURE() << "no error for header: " << (bytes.size() > 8 ? bytes.substr(8) : "(short)");
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("bad.safetensors: ", 0), 0u) << msg;
    for (const char* part : parts) EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
  }
}

std::string one(const std::string& entry, const std::string& data = std::string(8, '\0')) {
  return make_safetensors("{\"t\":" + entry + "}", data);
}

TEST(SafetensorsCorrupt, ShortFilesAndHeaderLength) {
  expect_error("", {"too short"});
  expect_error("1234567", {"too short"});
  std::string huge(8, '\0');
  huge[5] = 1;  // 2^40
  expect_error(huge + "{}", {"absurd"});
  std::string past = make_safetensors("{}");
  past[0] = 50;
  expect_error(past, {"past the end"});
}

TEST(SafetensorsCorrupt, GitLfsPointerIsRecognised) {
  expect_error("version https://git-lfs.github.com/spec/v1\noid sha256:4d2a\nsize 440473133\n", {"Git LFS pointer", "git lfs pull"});
}

TEST(SafetensorsCorrupt, HeaderNotJsonObject) {
  expect_error(make_safetensors("{\"t\": "), {"not valid JSON"});
  expect_error(make_safetensors("[1, 2]"), {"must be a JSON object"});
  expect_error(make_safetensors("null"), {"must be a JSON object"});
  expect_error(make_safetensors("{} {}"), {"not valid JSON"});
  expect_error(make_safetensors("{\"a\xff\": 1}"), {"not valid JSON"});  // invalid UTF-8
  expect_error(make_safetensors(std::string("{\0}", 3)), {"not valid JSON"});
}

TEST(SafetensorsCorrupt, DeepNestingStopsEarly) {
  expect_error(make_safetensors(std::string(10'000'000, '[')), {"more than 8 deep"});
  expect_error(one("{\"dtype\":\"F32\",\"shape\":[[[[[[[[2]]]]]]]],\"data_offsets\":[0,8]}"), {"deep"});
}

TEST(SafetensorsCorrupt, ZeroSizedWithHugeOtherDimensions) {
  // numel 0, but LibTorch must still be able to describe the shape: either it
  // parses to an empty tensor or it is an Error, never a LibTorch exception.
  const std::string f64 = "{\"dtype\":\"F64\",\"shape\":[0,4611686018427387904],\"data_offsets\":[0,0]}";
  try {
    at::Tensor t = parse_safetensors(one(f64), "z").tensors.at("t");
    EXPECT_EQ(t.numel(), 0);
  } catch (const Error&) {
  }
}

TEST(SafetensorsCorrupt, Dtype) {
  expect_error(one("{\"shape\":[2],\"data_offsets\":[0,8]}"), {"tensor t", "no dtype"});
  expect_error(one("{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}"), {"tensor t", "dtype must be a string"});
  expect_error(one("{\"dtype\":\"F8\",\"shape\":[8],\"data_offsets\":[0,8]}"), {"tensor t", "unsupported dtype \"F8\""});
  expect_error(one("{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}"), {"unsupported dtype"});
}

TEST(SafetensorsCorrupt, Shape) {
  expect_error(one("{\"dtype\":\"F32\",\"data_offsets\":[0,8]}"), {"tensor t", "no shape"});
  expect_error(one("{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}"), {"list of integers"});
  expect_error(one("{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}"), {"non-negative integers"});
  expect_error(one("{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}"), {"non-negative integers"});
  expect_error(one("{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}"), {"non-negative integers"});
  expect_error(one("{\"dtype\":\"F32\",\"shape\":[1e30],\"data_offsets\":[0,8]}"), {"non-negative integers"});
  expect_error(one("{\"dtype\":\"F32\",\"shape\":[18446744073709551615],\"data_offsets\":[0,8]}"),
               {"non-negative integers"});
  expect_error(one("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}"), {"too large"});
  expect_error(one("{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}"), {"too large"});
  // A zero dimension does not excuse absurd others.
  expect_error(one("{\"dtype\":\"F32\",\"shape\":[0,4294967296,4294967296],\"data_offsets\":[0,0]}"), {"too large"});
  std::string many = "[";
  for (int i = 0; i < 65; ++i) many += (i ? ",1" : "1");
  expect_error(one("{\"dtype\":\"U8\",\"shape\":" + many + "],\"data_offsets\":[0,1]}"), {"dimensions"});
}

TEST(SafetensorsCorrupt, DataOffsets) {
  const std::string f32x2 = "{\"dtype\":\"F32\",\"shape\":[2],";
  expect_error(one(f32x2 + "\"x\":1}"), {"tensor t", "no data_offsets"});
  expect_error(one(f32x2 + "\"data_offsets\":[0]}"), {"two non-negative integers"});
  expect_error(one(f32x2 + "\"data_offsets\":[0,8,9]}"), {"two non-negative integers"});
  expect_error(one(f32x2 + "\"data_offsets\":[-1,7]}"), {"two non-negative integers"});
  expect_error(one(f32x2 + "\"data_offsets\":[0,\"8\"]}"), {"two non-negative integers"});
  expect_error(one(f32x2 + "\"data_offsets\":{\"a\":0}}"), {"two non-negative integers"});
  expect_error(one(f32x2 + "\"data_offsets\":[8,0]}"), {"end before they begin"});
  expect_error(one(f32x2 + "\"data_offsets\":[4,12]}"), {"tensor t", "past the end of the data"});
  expect_error(one(f32x2 + "\"data_offsets\":[0,18446744073709551615]}"), {"two non-negative integers"});
  expect_error(one(f32x2 + "\"data_offsets\":[0,4]}"), {"tensor t", "hold 4 bytes", "needs 8"});
  expect_error(one("{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,0]}"), {"needs 4"});  // scalar = 1 element
}

TEST(SafetensorsCorrupt, Overlap) {
  const std::string header =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
  expect_error(make_safetensors(header, std::string(12, '\0')), {"overlap", "tensor a", "tensor b"});
  // An empty tensor inside another's bytes overlaps too; at its end it does not.
  const std::string inside =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}";
  expect_error(make_safetensors(inside, std::string(8, '\0')), {"overlap"});
  const std::string at_end =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}";
  EXPECT_EQ(parse_safetensors(make_safetensors(at_end, std::string(8, '\0')), "ok").tensors.size(), 2u);
}

TEST(SafetensorsCorrupt, DuplicateNamesAndKeys) {
  const std::string entry = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
  expect_error(make_safetensors("{\"w\":" + entry + ",\"w\":" + entry + "}", "x"), {"tensor w", "twice"});
  expect_error(make_safetensors("{\"w\":{\"dtype\":\"U8\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1]}}", "x"),
               {"\"dtype\" appears twice"});
  expect_error(make_safetensors("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}"), {"twice"});
}

TEST(SafetensorsCorrupt, EntryAndMetadataTypes) {
  expect_error(one("[1,2]"), {"tensor t", "must be an object"});
  expect_error(make_safetensors("{\"\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", "x"), {"empty name"});
  expect_error(make_safetensors("{\"__metadata__\":[\"a\"]}"), {"__metadata__ must be an object"});
  expect_error(make_safetensors("{\"__metadata__\":{\"a\":1}}"), {"__metadata__", "\"a\" must be a string"});
}

TEST(SafetensorsCorrupt, BoolBytesMustBeZeroOrOne) {
  expect_error(one("{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}", std::string("\x01\x00\x02", 3)),
               {"tensor t", "element 2 is 2"});
}

TEST(SafetensorsCorrupt, MinimalValidFilesParse) {
  // Data beyond the last tensor and a gap between tensors are tolerated.
  const std::string header =
      "{\"a\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[2,4]},\"__metadata__\":{}}";
  SafetensorsFile f = parse_safetensors(make_safetensors(header, std::string("\0\0\x05\x01\0\0", 6)), "ok");
  EXPECT_EQ(f.tensors.at("a").item<int16_t>(), 0x0105);
  EXPECT_TRUE(parse_safetensors(make_safetensors("{}"), "ok").tensors.empty());
}

// A valid file with several dtypes, small enough to corrupt at every bit.
std::string valid_file() {
  at::manual_seed(3);
  return serialize_safetensors({{"emb", at::randn({3, 2})},
                                {"half", at::randn({3}).to(at::kHalf)},
                                {"bf", at::randn({2}).to(at::kBFloat16)},
                                {"ids", at::arange(3, at::kLong)},
                                {"mask", at::tensor({1, 0}, at::kByte).to(at::kBool)},
                                {"byte", at::tensor({1, 2}, at::kByte)}},
                               {{"k", "v"}});
}

// Parsing must either succeed or throw cotrain::Error; anything else fails the test.
// Returns whether it succeeded.
bool parse_survives(const std::string& bytes, const std::string& what) {
  try {
    SafetensorsFile f = parse_safetensors(bytes, "fuzz");
    int64_t total = 0;
    for (const auto& [name, t] : f.tensors) total += t.nbytes();
    EXPECT_LE(total, static_cast<int64_t>(bytes.size())) << what;
    return true;
  } catch (const Error&) {
    return false;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": non-cotrain exception: " << e.what();
    return false;
  }
}

TEST(SafetensorsCorrupt, EveryTruncationIsAnError) {
  const std::string file = valid_file();
  ASSERT_TRUE(parse_survives(file, "intact"));
  for (size_t n = 0; n < file.size(); ++n)
    EXPECT_FALSE(parse_survives(file.substr(0, n), "truncated to " + std::to_string(n))) << n;
}

TEST(SafetensorsCorrupt, TruncatedFilesOnDiskNameThePath) {
  const std::string file = valid_file();
  const std::string path = testing::scratch_dir("st-truncated") + "/t.safetensors";
  for (size_t n : {size_t{0}, size_t{7}, size_t{8}, size_t{30}, file.size() - 1}) {
    testing::write_file(path, file.substr(0, n));
    try {
      load_safetensors(path);
      ADD_FAILURE() << "no error at " << n;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
    }
  }
  testing::write_file(path, file);
  EXPECT_EQ(load_safetensors(path).tensors.size(), 6u);
  try {
    load_safetensors(path + ".missing");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ".missing: no such file");
  }
}

TEST(SafetensorsCorrupt, EveryBitFlipIsSurvived) {
  const std::string file = valid_file();
  int survived = 0, total = 0;
  for (size_t byte = 0; byte < file.size(); ++byte)
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = file;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      survived += parse_survives(bad, "flip byte " + std::to_string(byte) + " bit " + std::to_string(bit));
      ++total;
    }
  // Flips in the data buffer (floats, ids) are undetectable; most header flips are errors.
  EXPECT_GT(survived, 0);
  EXPECT_LT(survived, total);
}

TEST(SafetensorsCorrupt, RandomDamageIsSurvived) {
  const std::string file = valid_file();
  std::mt19937 rng(1234);
  // COTRAIN_FUZZ_ROUNDS raises the count for a long run (e.g. under -DCOTRAIN_SANITIZE=ON).
  const char* env = std::getenv("COTRAIN_FUZZ_ROUNDS");
  const int rounds = env ? std::atoi(env) : 3000;
  for (int round = 0; round < rounds; ++round) {
    std::string bad = file;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % bad.size();
      switch (rng() % 4) {
        case 0: bad[pos] = static_cast<char>(rng()); break;                      // random byte
        case 1: bad[pos] = "{}[]\",:0123456789-e. "[rng() % 21]; break;          // JSON syntax
        case 2: bad.insert(pos, 1, static_cast<char>(rng())); break;             // insertion
        case 3: if (bad.size() > 9) bad.erase(pos, 1 + rng() % 4); break;        // deletion
      }
    }
    parse_survives(bad, "round " + std::to_string(round));
  }
}

}  // namespace
}  // namespace cotrain::io
