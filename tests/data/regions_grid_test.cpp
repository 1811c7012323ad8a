#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/data/regions_grid.h"
#include "support/support.h"

using namespace cotrain;
using namespace cotrain::data;
using cotrain::testing::read_file;
using cotrain::testing::run_reference;
using cotrain::testing::scratch_dir;

namespace {

io::Image random_image(std::int64_t w, std::int64_t h, unsigned seed) {
  io::Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<std::size_t>(w * h * 3));
  unsigned s = seed;
  for (auto& v : img.rgb) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(s >> 8) / static_cast<float>(1u << 24);
  }
  return img;
}

// Runs the PyTorch reference on `img` and compares resize, features and boxes.
void compare_with_reference(const io::Image& img, const GridOptions& o, const std::string& name) {
  std::string dir = scratch_dir("grid_" + name);
  {
    std::ofstream raw(dir + "/img.f32", std::ios::binary);
    raw.write(reinterpret_cast<const char*>(img.rgb.data()), static_cast<std::streamsize>(img.rgb.size() * 4));
  }
  run_reference("image_ref.py", {dir + "/img.f32", std::to_string(img.height), std::to_string(img.width),
                                 std::to_string(o.image_size), std::to_string(o.grid), std::to_string(o.pool),
                                 dir + "/out.json"});
  auto ref = nlohmann::json::parse(read_file(dir + "/out.json"));
  auto resized = io::resize_bilinear(img, o.image_size, o.image_size);
  auto want_resized = ref["resized"].get<std::vector<double>>();
  ASSERT_EQ(resized.rgb.size(), want_resized.size());
  double worst = 0;
  for (std::size_t i = 0; i < want_resized.size(); ++i) worst = std::max(worst, std::fabs(resized.rgb[i] - want_resized[i]));
  EXPECT_LT(worst, 2e-6) << name << ": resize differs from PyTorch bilinear";

  Regions r = grid_regions(img, o, "img");
  EXPECT_EQ(r.num_boxes, o.grid * o.grid);
  EXPECT_EQ(r.feature_dim, o.pool * o.pool * 3);
  auto want_features = ref["features"].get<std::vector<double>>();
  ASSERT_EQ(r.features.size(), want_features.size());
  worst = 0;
  for (std::size_t i = 0; i < want_features.size(); ++i)
    worst = std::max(worst, std::fabs(r.features[i] - want_features[i]));
  EXPECT_LT(worst, 2e-5) << name << ": grid features differ";
  auto want_boxes = ref["boxes"].get<std::vector<double>>();
  ASSERT_EQ(r.boxes.size(), want_boxes.size());
  for (std::size_t i = 0; i < want_boxes.size(); ++i) EXPECT_NEAR(r.boxes[i], want_boxes[i], 1e-4) << i;
  std::string why;
  EXPECT_TRUE(check_regions(r, why)) << why;
}

}  // namespace

TEST(RegionsGrid, MatchesPyTorchDownsampling) {
  GridOptions o;  // 64 -> 4x4 patches of 16, pooled to 8x8
  compare_with_reference(random_image(90, 70, 1), o, "down");
}

TEST(RegionsGrid, MatchesPyTorchUpsamplingNoPoolCollapse) {
  GridOptions o;
  o.image_size = 24;
  o.grid = 3;
  o.pool = 2;
  compare_with_reference(random_image(13, 17, 2), o, "up");
}

TEST(RegionsGrid, PatchOrderAndBoxesAreRowMajor) {
  // Left half black, right half white: with a 2x2 grid, patches 0 and 2 are dark.
  io::Image img;
  img.width = 8;
  img.height = 4;
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 8; ++x)
      for (int c = 0; c < 3; ++c) img.rgb.push_back(x < 4 ? 0.0f : 1.0f);
  GridOptions o;
  o.image_size = 8;
  o.grid = 2;
  o.pool = 1;
  o.mean = {0, 0, 0};
  o.std = {1, 1, 1};
  Regions r = grid_regions(img, o, "halves");
  ASSERT_EQ(r.num_boxes, 4);
  EXPECT_FLOAT_EQ(r.features[0], 0.0f);
  EXPECT_FLOAT_EQ(r.features[3], 1.0f);
  EXPECT_FLOAT_EQ(r.features[6], 0.0f);
  EXPECT_FLOAT_EQ(r.features[9], 1.0f);
  // Box 1 = top-right quarter of the 8x4 image.
  EXPECT_EQ(std::vector<float>(r.boxes.begin() + 4, r.boxes.begin() + 8), (std::vector<float>{4, 0, 8, 2}));
  EXPECT_EQ(r.width, 8);
  EXPECT_EQ(r.height, 4);
}

TEST(RegionsGrid, RejectsSizesThatDoNotDivide) {
  GridOptions o;
  o.grid = 5;  // 64 / 5
  EXPECT_THROW(check_grid_options(o), Error);
  o.grid = 4;
  o.pool = 3;  // 16 / 3
  try {
    check_grid_options(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pool size 3"), std::string::npos);
  }
}
