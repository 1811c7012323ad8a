#include <gtest/gtest.h>

#include "cotrain/core/error.h"
#include "cotrain/data/regions_tsv.h"
#include "cotrain/data/shards.h"
#include "cotrain/data/shards_prepare.h"
#include "support/support.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb/stb_image_write.h>

using namespace cotrain;
using namespace cotrain::data;
using cotrain::testing::read_file;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

Regions regions_of(const std::string& id, std::int64_t n, float value) {
  Regions r;
  r.image_id = id;
  r.width = 50;
  r.height = 40;
  r.num_boxes = n;
  r.feature_dim = 3;
  for (std::int64_t i = 0; i < n; ++i) {
    r.boxes.insert(r.boxes.end(), {0, 0, 10, 10});
    r.features.insert(r.features.end(), {value, value + 1, value + 2});
  }
  return r;
}

Caption caption_of(const std::string& key, const std::string& text, std::int64_t record,
                   const std::string& path = "") {
  Caption c;
  c.image_key = key;
  c.text = text;
  c.record = record;
  c.image_path = path;
  return c;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void write_png(const std::string& path, int w, int h, unsigned char shade) {
  std::vector<unsigned char> px(static_cast<std::size_t>(w * h * 4), shade);
  for (std::size_t i = 3; i < px.size(); i += 4) px[i] = 255;
  ASSERT_TRUE(stbi_write_png(path.c_str(), w, h, 4, px.data(), w * 4));
}

}  // namespace

TEST(ShardsPrepare, JoinsTsvRegionsToCaptionsAndRollsShards) {
  std::string dir = scratch_dir("prep_tsv");
  write_regions_tsv(dir + "/r.tsv", {regions_of("1", 2, 0), regions_of("2", 3, 10), regions_of("3", 1, 20)});
  std::vector<Caption> caps = {caption_of("3", "three", 0), caption_of("1", "one a", 1), caption_of("1", "one b", 2)};
  PrepareOptions o;
  o.out_dir = dir + "/out";
  o.images_per_shard = 1;
  auto s = prepare_from_tsv(caps, "caps.json", {dir + "/r.tsv"}, o);
  EXPECT_EQ(s.images, 2);  // image 2 has no caption
  EXPECT_EQ(s.captions, 3);
  EXPECT_EQ(s.shards, 2);
  ShardSet set(o.out_dir);
  ASSERT_EQ(set.num_images(), 2);
  EXPECT_EQ(set.image(0).image_key, "1");  // TSV order
  EXPECT_EQ(set.image(1).features[0], 20.0f);
  EXPECT_EQ(set.caption(1).text, "one b");
  EXPECT_EQ(set.caption(2).image_index, 1u);
  EXPECT_NE(read_file(o.out_dir + "/index.json").find("\"shard-00001.bin\""), std::string::npos);
  // No captions: an image-only corpus of every line.
  o.out_dir = dir + "/images-only";
  EXPECT_EQ(prepare_from_tsv({}, "", {dir + "/r.tsv"}, o).images, 3);
}

TEST(ShardsPrepare, CaptionWithoutRegionsNamesTheRecord) {
  std::string dir = scratch_dir("prep_missing_regions");
  write_regions_tsv(dir + "/r.tsv", {regions_of("1", 2, 0)});
  std::vector<Caption> caps = {caption_of("1", "ok", 0), caption_of("77", "lost", 1)};
  PrepareOptions o;
  o.out_dir = dir + "/out";
  auto why = error_of([&] { prepare_from_tsv(caps, "caps.json", {dir + "/r.tsv"}, o); });
  EXPECT_NE(why.find("caps.json: record 1: no regions for image '77'"), std::string::npos) << why;
  o.skip_bad_records = true;
  auto s = prepare_from_tsv(caps, "caps.json", {dir + "/r.tsv"}, o);
  EXPECT_EQ(s.skipped_captions, 1);
  EXPECT_EQ(s.captions, 1);
}

TEST(ShardsPrepare, CorruptTsvLineFailsOrIsSkipped) {
  std::string dir = scratch_dir("prep_bad_tsv");
  std::string good = format_regions_tsv_line(regions_of("1", 2, 0));
  std::string bad = format_regions_tsv_line(regions_of("2", 2, 5));
  write_file(dir + "/r.tsv", good + "\n" + bad.substr(0, bad.size() - 5) + "\n");
  PrepareOptions o;
  o.out_dir = dir + "/out";
  auto why = error_of([&] { prepare_from_tsv({}, "", {dir + "/r.tsv"}, o); });
  EXPECT_NE(why.find("r.tsv: line 2: image 2: features"), std::string::npos) << why;
  o.skip_bad_records = true;
  auto s = prepare_from_tsv({}, "", {dir + "/r.tsv"}, o);
  EXPECT_EQ(s.images, 1);
  EXPECT_EQ(s.skipped_images, 1);
}

TEST(ShardsPrepare, GridFromImagesNamesBrokenAndMissingImages) {
  std::string dir = scratch_dir("prep_images");
  write_png(dir + "/a.png", 32, 32, 200);
  write_png(dir + "/b.png", 16, 8, 10);
  std::vector<Caption> caps = {caption_of("a", "light", 0, dir + "/a.png"), caption_of("b", "dark", 1, dir + "/b.png"),
                               caption_of("a", "light again", 2, dir + "/a.png")};
  GridOptions g;
  g.image_size = 16;
  g.grid = 2;
  g.pool = 2;
  PrepareOptions o;
  o.out_dir = dir + "/out";
  o.threads = 2;
  auto s = prepare_from_images(caps, "caps.jsonl", {}, g, o);
  EXPECT_EQ(s.images, 2);
  EXPECT_EQ(s.captions, 3);
  EXPECT_EQ(s.feature_dim, 12);
  ShardSet set(o.out_dir);
  EXPECT_EQ(set.image(0).num_boxes, 4);
  EXPECT_EQ(set.caption(1).text, "light again");  // grouped with its image
  EXPECT_EQ(set.image(1).width, 16);
  EXPECT_EQ(set.image(1).height, 8);
  // A uniform image: every feature is (v - mean) / std of its channel.
  EXPECT_NEAR(set.image(0).features[0], (200.0f / 255.0f - 0.485f) / 0.229f, 1e-5f);

  // Broken PNG: the caption record and the file are named.
  std::string png = read_file(dir + "/b.png");
  write_file(dir + "/b.png", png.substr(0, png.size() / 2));
  auto why = error_of([&] { prepare_from_images(caps, "caps.jsonl", {}, g, o); });
  EXPECT_NE(why.find("caps.jsonl: record 1: " + dir + "/b.png: cannot decode image"), std::string::npos) << why;
  // Missing image.
  caps[1].image_path = dir + "/gone.png";
  why = error_of([&] { prepare_from_images(caps, "caps.jsonl", {}, g, o); });
  EXPECT_NE(why.find("caps.jsonl: record 1: image '" + dir + "/gone.png' not found"), std::string::npos) << why;
  o.skip_bad_records = true;
  s = prepare_from_images(caps, "caps.jsonl", {}, g, o);
  EXPECT_EQ(s.images, 1);
  EXPECT_EQ(s.skipped_images, 1);
  EXPECT_EQ(s.skipped_captions, 1);
}

TEST(ShardsPrepare, ImageOnlyListsAndTransform) {
  std::string dir = scratch_dir("prep_list");
  write_png(dir + "/x.png", 8, 8, 50);
  write_png(dir + "/y.PNG", 8, 8, 60);
  write_file(dir + "/notes.txt", "not an image");
  auto files = list_images(dir);
  ASSERT_EQ(files.size(), 2u);
  write_file(dir + "/list.txt", "x.png\n\ny.PNG\n");
  EXPECT_EQ(list_images(dir + "/list.txt"), files);
  GridOptions g;
  g.image_size = 8;
  g.grid = 2;
  g.pool = 1;
  PrepareOptions o;
  o.out_dir = dir + "/out";
  o.transform = [](Regions& r) {  // e.g. codebook targets: two classes
    r.num_classes = 2;
    r.class_probs.assign(static_cast<std::size_t>(2 * r.num_boxes), 0.5f);
  };
  auto s = prepare_from_images({}, "", files, g, o);
  EXPECT_EQ(s.images, 2);
  EXPECT_EQ(s.num_classes, 2);
  ShardSet set(o.out_dir);
  EXPECT_EQ(set.num_captions(), 0);
  EXPECT_EQ(set.image(1).class_probs[3], 0.5f);
  EXPECT_EQ(set.image(0).image_key, files[0]);
}
