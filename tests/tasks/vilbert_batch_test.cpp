// ViLBERT inputs: the IMG token, region masking rates and targets, and collation.
#include <gtest/gtest.h>
#include <torch/types.h>

#include "cotrain/core/error.h"
#include "cotrain/objectives/alignment.h"
#include "cotrain/tasks/vilbert_batch.h"

using namespace cotrain;

namespace {

// Four 2-d regions in a 100 x 50 image with 3-class probabilities.
struct FakeImage {
  std::vector<float> boxes{0, 0, 50, 25, 10, 10, 20, 20, 0, 0, 100, 50, 60, 5, 90, 45};
  std::vector<float> features{1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<float> probs{.2f, .3f, .5f, 1, 0, 0, 0, 1, 0, .1f, .1f, .8f};
  data::RegionsView view() const {
    data::RegionsView v;
    v.image_key = "img";
    v.width = 100, v.height = 50, v.num_boxes = 4, v.feature_dim = 2, v.num_classes = 3;
    v.boxes = boxes.data(), v.features = features.data(), v.class_probs = probs.data();
    return v;
  }
};

VilbertConfig small_config() {
  VilbertConfig c;
  c.v_feature_size = 2;
  c.v_target_size = 3;
  return c;
}

}  // namespace

TEST(VilbertBatch, ImageTokenIsMeanFeatureWithWholeImageLocation) {
  FakeImage img;
  VilbertConfig c = small_config();
  c.region_mask_prob = 0.0;
  Rng rng(1);
  tasks::ImageInput in = tasks::make_image_input(img.view(), c, rng);
  ASSERT_EQ(in.count, 5);
  EXPECT_FLOAT_EQ(in.features[0], 4.0f);  // (1 + 3 + 5 + 7) / 4
  EXPECT_FLOAT_EQ(in.features[1], 5.0f);
  EXPECT_EQ(std::vector<float>(in.locations.begin(), in.locations.begin() + 5), (std::vector<float>{0, 0, 1, 1, 1}));
  // Box 1 (10,10)-(20,20) in 100 x 50: x1/W, y1/H, x2/W, y2/H, area/(W*H).
  EXPECT_FLOAT_EQ(in.locations[10], 0.1f);
  EXPECT_FLOAT_EQ(in.locations[11], 0.2f);
  EXPECT_FLOAT_EQ(in.locations[12], 0.2f);
  EXPECT_FLOAT_EQ(in.locations[13], 0.4f);
  EXPECT_FLOAT_EQ(in.locations[14], 0.02f);
  EXPECT_FLOAT_EQ(in.targets[3 * 4 + 2], 0.8f);  // row 4 = box 3's class distribution
  for (int64_t m : in.masked) EXPECT_EQ(m, 0);
  // max_regions keeps the first boxes; the IMG mean covers only those.
  c.max_regions = 2;
  tasks::ImageInput two = tasks::make_image_input(img.view(), c, rng);
  EXPECT_EQ(two.count, 3);
  EXPECT_FLOAT_EQ(two.features[0], 2.0f);
}

TEST(VilbertBatch, RegionMaskingRates) {
  FakeImage img;
  VilbertConfig c = small_config();
  Rng rng(7);
  int64_t real = 0, chosen = 0, zeroed = 0;
  for (int i = 0; i < 20000; ++i) {
    tasks::ImageInput in = tasks::make_image_input(img.view(), c, rng);
    ASSERT_EQ(in.masked[0], 0) << "the IMG token is never masked";
    EXPECT_FLOAT_EQ(in.features[0], 4.0f) << "the IMG mean uses the features before masking";
    for (int64_t r = 1; r < in.count; ++r) {
      ++real;
      if (!in.masked[static_cast<size_t>(r)]) {
        EXPECT_NE(in.features[static_cast<size_t>(2 * r)], 0.f);
        continue;
      }
      ++chosen;
      zeroed += in.features[static_cast<size_t>(2 * r)] == 0.f && in.features[static_cast<size_t>(2 * r + 1)] == 0.f;
      // Locations are always kept.
      EXPECT_NE(in.locations[static_cast<size_t>(5 * r + 4)], 0.f);
    }
  }
  const double chosen_rate = static_cast<double>(chosen) / real, zero_rate = static_cast<double>(zeroed) / chosen;
  EXPECT_NEAR(chosen_rate, 0.15, 0.01);  // 80k regions: sd ~0.0013
  EXPECT_NEAR(zero_rate, 0.90, 0.015);   // ~12k chosen: sd ~0.003
}

TEST(VilbertBatch, RegressionTargetsAreTheUnmaskedFeatures) {
  FakeImage img;
  VilbertConfig c = small_config();
  c.region_objective = "regression";
  c.region_mask_prob = 0.999999;
  Rng rng(3);
  tasks::ImageInput in = tasks::make_image_input(img.view(), c, rng);
  EXPECT_FLOAT_EQ(in.targets[2 * 2 + 1], 4.0f);  // row 2 = box 1's feature (3, 4)
  EXPECT_FLOAT_EQ(in.targets[0], 0.0f);          // no target for the IMG token
}

TEST(VilbertBatch, MissingClassProbabilitiesNameTheImage) {
  FakeImage img;
  data::RegionsView v = img.view();
  v.num_classes = 0;
  v.class_probs = nullptr;
  Rng rng(1);
  try {
    tasks::make_image_input(v, small_config(), rng);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image img"), std::string::npos) << e.what();
  }
}
