// The documented command sequence: prepare (grid regions) -> codebook -> prepare with
// codebook targets, and regions -> prepare --regions; plus the error a user sees for a
// broken image.
#include <gtest/gtest.h>

#include <cmath>

#include "cotrain/data/shards.h"
#include "support/support.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>

using namespace cotrain;
using cotrain::testing::read_file;
using cotrain::testing::run_cotrain;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

// Six 12x12 RGBA images in two colour families, and their captions as JSONL.
std::string make_images(const std::string& dir) {
  std::string jsonl;
  for (int i = 0; i < 6; ++i) {
    std::vector<unsigned char> px(12 * 12 * 4);
    for (int p = 0; p < 12 * 12; ++p) {
      px[4 * p + 0] = static_cast<unsigned char>(i < 3 ? 220 : 20 + 10 * i);
      px[4 * p + 1] = static_cast<unsigned char>(p % 12 < 6 ? 30 : 200);
      px[4 * p + 2] = static_cast<unsigned char>(i < 3 ? 40 * i : 250);
      px[4 * p + 3] = static_cast<unsigned char>(p < 72 ? 255 : 128);
    }
    std::string name = "img" + std::to_string(i);
    EXPECT_TRUE(stbi_write_png((dir + "/" + name + ".png").c_str(), 12, 12, 4, px.data(), 48));
    jsonl += "{\"image\": \"" + name + ".png\", \"image_id\": \"" + name + "\", \"caption\": \"picture " +
             std::to_string(i) + "\"}\n";
  }
  write_file(dir + "/captions.jsonl", jsonl);
  return dir + "/captions.jsonl";
}

}  // namespace

TEST(ShardsCli, PrepareCodebookPrepareWithTargets) {
  std::string dir = scratch_dir("cli_vision");
  std::string captions = make_images(dir);
  auto r = run_cotrain({"prepare", "--captions", captions, "--from-images", "--size", "12", "--grid", "2", "--pool",
                        "3", "--out", dir + "/plain", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("6 images, 6 captions"), std::string::npos) << r.output;
  r = run_cotrain({"codebook", "--shards", dir + "/plain", "--k", "4", "--seed", "1", "--out", dir + "/cb.safetensors"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_cotrain({"prepare", "--captions", captions, "--from-images", "--size", "12", "--grid", "2", "--pool", "3",
                   "--codebook", dir + "/cb.safetensors", "--out", dir + "/targets"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  data::ShardSet plain(dir + "/plain"), targets(dir + "/targets");
  EXPECT_EQ(plain.feature_dim(), 27);
  EXPECT_EQ(plain.num_classes(), 0);
  EXPECT_EQ(targets.num_classes(), 4);
  for (std::int64_t i = 0; i < targets.num_images(); ++i) {
    auto v = targets.image(i);
    for (std::int64_t b = 0; b < v.num_boxes; ++b) {
      double sum = 0;
      for (int k = 0; k < 4; ++k) sum += v.class_probs[b * 4 + k];
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
    // Same features with and without targets.
    EXPECT_EQ(v.features[5], plain.image(i).features[5]);
  }
  EXPECT_EQ(targets.caption_record(4).text, "picture 4");
}

TEST(ShardsCli, RegionsTsvThenPrepareJoinsByImageId) {
  std::string dir = scratch_dir("cli_regions");
  std::string captions = make_images(dir);
  auto r = run_cotrain({"regions", "--images", dir, "--out", dir + "/r.tsv", "--stem-ids", "--size", "12", "--grid",
                        "3", "--pool", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_cotrain({"prepare", "--captions", captions, "--regions", dir + "/r.tsv", "--out", dir + "/out"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  data::ShardSet set(dir + "/out");
  EXPECT_EQ(set.num_images(), 6);
  EXPECT_EQ(set.image(0).num_boxes, 9);
  EXPECT_EQ(set.feature_dim(), 12);
}

TEST(ShardsCli, BrokenImageExitsTwoNamingTheRecord) {
  std::string dir = scratch_dir("cli_broken");
  std::string captions = make_images(dir);
  std::string png = read_file(dir + "/img3.png");
  write_file(dir + "/img3.png", png.substr(0, 40));
  auto r = run_cotrain({"prepare", "--captions", captions, "--from-images", "--size", "12", "--grid", "2", "--pool",
                        "3", "--out", dir + "/out"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("captions.jsonl: record 4: " + dir + "/img3.png: cannot decode image"), std::string::npos)
      << r.output;
  r = run_cotrain({"prepare", "--captions", captions, "--from-images", "--size", "12", "--grid", "2", "--pool", "3",
                   "--out", dir + "/out", "--on-bad-record", "skip"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("skipped 1 images, 1 captions"), std::string::npos) << r.output;
}
