#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/data/shards.h"
#include "support/support.h"

using namespace cotrain;
using namespace cotrain::data;
using cotrain::testing::read_file;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

Regions make_regions(const std::string& id, std::int64_t n, std::int64_t d, std::int64_t c, float base) {
  Regions r;
  r.image_id = id;
  r.width = 100;
  r.height = 80;
  r.num_boxes = n;
  r.feature_dim = d;
  r.num_classes = c;
  for (std::int64_t i = 0; i < n; ++i) {
    r.boxes.insert(r.boxes.end(), {1.0f * i, 2.0f * i, 10.0f + i, 20.0f + i});
    for (std::int64_t k = 0; k < d; ++k) r.features.push_back(base + 0.125f * static_cast<float>(i * d + k));
    for (std::int64_t k = 0; k < c; ++k) r.class_probs.push_back(k == i % c ? 1.0f : 0.0f);
  }
  return r;
}

Caption make_caption(const std::string& text) {
  Caption c;
  c.text = text;
  return c;
}

// Writes a small shard: two images (3 and 1 boxes, D 5, C 2), three captions.
std::string write_sample(const std::string& dir) {
  std::string path = dir + "/shard-00000.bin";
  ShardWriter w(path, 5, 2);
  auto a = w.add_image(make_regions("img-a", 3, 5, 2, 0.0f));
  auto b = w.add_image(make_regions("img-b", 1, 5, 2, 100.0f));
  Caption rich = make_caption("grinning face");
  rich.paraphrases = {"嘿嘿", "smiley"};
  rich.tags = {"face"};
  rich.concept = "1F600";
  rich.split = "train";
  rich.image_path = "img/a.png";
  w.add_caption(rich, a);
  w.add_caption(make_caption("a second caption"), a);
  w.add_caption(make_caption("only caption of b"), b);
  w.finish();
  return path;
}

std::string open_error(const std::string& path) {
  try {
    ShardReader reader(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void patch_u64(std::string& bytes, std::size_t offset, std::uint64_t value) { std::memcpy(&bytes[offset], &value, 8); }
void patch_u32(std::string& bytes, std::size_t offset, std::uint32_t value) { std::memcpy(&bytes[offset], &value, 4); }
std::uint64_t read_u64(const std::string& bytes, std::size_t offset) {
  std::uint64_t v;
  std::memcpy(&v, &bytes[offset], 8);
  return v;
}

}  // namespace

TEST(Shards, RoundTripZeroCopy) {
  std::string dir = scratch_dir("shards_rt");
  std::string path = write_sample(dir);
  ShardReader reader(path);
  ASSERT_EQ(reader.num_images(), 2);
  ASSERT_EQ(reader.num_captions(), 3);
  EXPECT_EQ(reader.feature_dim(), 5);
  EXPECT_EQ(reader.num_classes(), 2);
  RegionsView a = reader.image(0);
  EXPECT_EQ(a.image_key, "img-a");
  EXPECT_EQ(a.num_boxes, 3);
  EXPECT_EQ(a.width, 100);
  EXPECT_EQ(a.height, 80);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.features) % 64, 0u);  // aligned in the mapping
  Regions back = a.to_regions();
  Regions want = make_regions("img-a", 3, 5, 2, 0.0f);
  EXPECT_EQ(back.boxes, want.boxes);
  EXPECT_EQ(back.features, want.features);
  EXPECT_EQ(back.class_probs, want.class_probs);
  EXPECT_EQ(reader.image(1).features[0], 100.0f);
  CaptionView c = reader.caption(2);
  EXPECT_EQ(c.text, "only caption of b");
  EXPECT_EQ(c.image_index, 1u);
  EXPECT_TRUE(c.meta.empty());
  Caption rich = reader.caption_record(0);
  EXPECT_EQ(rich.paraphrases, (std::vector<std::string>{"嘿嘿", "smiley"}));
  EXPECT_EQ(rich.tags, std::vector<std::string>{"face"});
  EXPECT_EQ(rich.concept, "1F600");
  EXPECT_EQ(rich.split, "train");
  EXPECT_EQ(rich.image_path, "img/a.png");
  EXPECT_EQ(rich.image_key, "img-a");
  reader.verify_values();
  EXPECT_THROW(reader.image(2), Error);
  EXPECT_THROW(reader.caption(-1), Error);
}

TEST(Shards, SetNumbersAcrossShards) {
  std::string dir = scratch_dir("shards_set");
  write_sample(dir);
  {
    ShardWriter w(dir + "/shard-00001.bin", 5, 2);
    auto i = w.add_image(make_regions("img-c", 2, 5, 2, 7.0f));
    w.add_caption(make_caption("c"), i);
    w.finish();
  }
  ShardSet set(dir);
  EXPECT_EQ(set.num_images(), 3);
  EXPECT_EQ(set.num_captions(), 4);
  EXPECT_EQ(set.image(2).image_key, "img-c");
  EXPECT_EQ(set.caption(3).image_index, 2u);
  EXPECT_EQ(set.caption_record(3).image_key, "img-c");
  {
    ShardWriter w(dir + "/shard-00002.bin", 6, 2);
    w.add_image(make_regions("img-d", 1, 6, 2, 0.0f));
    w.finish();
  }
  EXPECT_THROW(ShardSet{dir}, Error);  // D differs
}

TEST(Shards, WriterRejectsMismatchedRegions) {
  std::string dir = scratch_dir("shards_writer");
  ShardWriter w(dir + "/s.bin", 5, 0);
  EXPECT_THROW(w.add_image(make_regions("x", 2, 4, 0, 0.0f)), Error);  // D
  EXPECT_THROW(w.add_image(make_regions("x", 2, 5, 3, 0.0f)), Error);  // C
  Regions bad = make_regions("x", 2, 5, 0, 0.0f);
  bad.features[3] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(w.add_image(bad), Error);
  EXPECT_THROW(w.add_caption(make_caption("no image yet"), 0), Error);
}

TEST(Shards, UnfinishedWriterLeavesNoShard) {
  std::string dir = scratch_dir("shards_unfinished");
  {
    ShardWriter w(dir + "/shard-00000.bin", 5, 0);
    w.add_image(make_regions("x", 1, 5, 0, 0.0f));
  }
  EXPECT_FALSE(std::ifstream(dir + "/shard-00000.bin").good());
  EXPECT_FALSE(std::ifstream(dir + "/shard-00000.bin.partial").good());
}

TEST(Shards, CorruptionIsReportedNotRead) {
  std::string dir = scratch_dir("shards_corrupt");
  const std::string good = read_file(write_sample(dir));
  auto try_bytes = [&](const std::string& bytes) {
    write_file(dir + "/bad.bin", bytes);
    return open_error(dir + "/bad.bin");
  };
  EXPECT_EQ(try_bytes(good), "");
  // Truncated anywhere: the recorded size disagrees.
  auto why = try_bytes(good.substr(0, good.size() - 10));
  EXPECT_NE(why.find("bad.bin: header says"), std::string::npos) << why;
  EXPECT_NE(try_bytes(good.substr(0, 20)).find("too short"), std::string::npos);
  // Bad magic, version.
  std::string b = good;
  b[0] = 'X';
  EXPECT_NE(try_bytes(b).find("bad magic"), std::string::npos);
  b = good;
  patch_u32(b, 8, 9);
  EXPECT_NE(try_bytes(b).find("shard version 9"), std::string::npos);
  // Image table pointing past the end.
  b = good;
  patch_u64(b, 24, 1ULL << 40);
  EXPECT_NE(try_bytes(b).find("image table"), std::string::npos) << try_bytes(b);
  // One image's feature array moved outside the file (overflow-safe check).
  const std::uint64_t image_table = read_u64(good, 40);
  b = good;
  patch_u64(b, image_table + 48 + 32, ~0ULL - 3);
  why = try_bytes(b);
  EXPECT_NE(why.find("image 1: features array"), std::string::npos) << why;
  // Misaligned boxes.
  b = good;
  patch_u64(b, image_table + 24, read_u64(good, image_table + 24) + 2);
  EXPECT_NE(try_bytes(b).find("image 0: boxes array"), std::string::npos);
  // Box count so large the arrays overrun.
  b = good;
  patch_u32(b, image_table + 12, 1u << 30);
  EXPECT_NE(try_bytes(b).find("image 0:"), std::string::npos);
  // Caption pointing at an image that does not exist.
  const std::uint64_t caption_table = read_u64(good, 48);
  b = good;
  patch_u32(b, caption_table + 32 * 2 + 12, 5);
  why = try_bytes(b);
  EXPECT_NE(why.find("caption 2: image index 5 but the shard has 2 images"), std::string::npos) << why;
  // Caption text outside the file.
  b = good;
  patch_u32(b, caption_table + 8, 1u << 31);
  EXPECT_NE(try_bytes(b).find("caption 0: text outside"), std::string::npos);
  // NaN inside a feature array: opening is cheap, verify_values finds it.
  b = good;
  const std::uint64_t features = read_u64(good, image_table + 32);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&b[features + 4], &nan, 4);
  write_file(dir + "/nan.bin", b);
  ShardReader nan_reader(dir + "/nan.bin");
  try {
    nan_reader.verify_values();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image 0 (img-a): non-finite feature"), std::string::npos) << e.what();
  }
  EXPECT_NE(open_error(dir + "/missing.bin").find("missing.bin: cannot open"), std::string::npos);
}

TEST(Shards, LayoutMatchesTheDocumentedFormat) {
  // An independent Python reader written from the format comment in shards.h.
  std::string dir = scratch_dir("shards_ref");
  std::string path = write_sample(dir);
  auto j = nlohmann::json::parse(cotrain::testing::run_reference("shards_ref.py", {path}));
  EXPECT_EQ(j["version"].get<int>(), 1);
  EXPECT_EQ(j["dim"].get<int>(), 5);
  EXPECT_EQ(j["classes"].get<int>(), 2);
  ASSERT_EQ(j["images"].size(), 2u);
  Regions a = make_regions("img-a", 3, 5, 2, 0.0f);
  EXPECT_EQ(j["images"][0]["key"].get<std::string>(), "img-a");
  EXPECT_EQ(j["images"][0]["w"].get<int>(), 100);
  EXPECT_EQ(j["images"][0]["boxes"].get<std::vector<float>>(), a.boxes);
  EXPECT_EQ(j["images"][0]["features"].get<std::vector<float>>(), a.features);
  EXPECT_EQ(j["images"][0]["class_probs"].get<std::vector<float>>(), a.class_probs);
  ASSERT_EQ(j["captions"].size(), 3u);
  EXPECT_EQ(j["captions"][0]["meta"]["paraphrases"][0].get<std::string>(), "嘿嘿");
  EXPECT_EQ(j["captions"][0]["meta"]["concept"].get<std::string>(), "1F600");
  EXPECT_EQ(j["captions"][2]["text"].get<std::string>(), "only caption of b");
  EXPECT_EQ(j["captions"][2]["image"].get<int>(), 1);
}
