#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/data/regions_tsv.h"
#include "cotrain/io/base64.h"
#include "support/support.h"

using namespace cotrain;
using namespace cotrain::data;
using cotrain::testing::read_file;
using cotrain::testing::run_reference;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;

namespace {

Regions sample_regions(const std::string& id, std::int64_t n, std::int64_t d, std::int64_t c) {
  Regions r;
  r.image_id = id;
  r.width = 640;
  r.height = 480;
  r.num_boxes = n;
  r.feature_dim = d;
  r.num_classes = c;
  for (std::int64_t i = 0; i < n; ++i) {
    float x = 10.0f * i, y = 5.0f * i;
    r.boxes.insert(r.boxes.end(), {x, y, x + 100.0f, y + 50.0f});
    for (std::int64_t k = 0; k < d; ++k) r.features.push_back(0.5f * i - 0.25f * k);
    for (std::int64_t k = 0; k < c; ++k) r.class_probs.push_back(1.0f / c);
  }
  return r;
}

std::string line_of(const Regions& r) { return format_regions_tsv_line(r) + "\n"; }

// Reads `contents` as a TSV file and returns the error message (empty if none).
std::string read_error(const std::string& contents, RegionsTsvOptions options = {}) {
  std::string path = scratch_dir("regions_err") + "/bad.tsv";
  write_file(path, contents);
  try {
    read_regions_tsv(path, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string b64(const std::vector<float>& v) { return io::base64_encode_floats(v.data(), v.size()); }

}  // namespace

TEST(RegionsTsv, WriterReaderRoundTripWithAndWithoutClassProbs) {
  std::string dir = scratch_dir("regions_rt");
  std::vector<Regions> with = {sample_regions("1", 3, 6, 4), sample_regions("abc", 1, 6, 4)};
  write_regions_tsv(dir + "/with.tsv", with);
  auto back = read_regions_tsv(dir + "/with.tsv");
  ASSERT_EQ(back.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(back[i].image_id, with[i].image_id);
    EXPECT_EQ(back[i].width, 640);
    EXPECT_EQ(back[i].height, 480);
    EXPECT_EQ(back[i].feature_dim, 6);
    EXPECT_EQ(back[i].num_classes, 4);
    EXPECT_EQ(back[i].boxes, with[i].boxes);
    EXPECT_EQ(back[i].features, with[i].features);
    EXPECT_EQ(back[i].class_probs, with[i].class_probs);
  }
  write_regions_tsv(dir + "/without.tsv", {sample_regions("7", 2, 5, 0)});
  auto plain = read_regions_tsv(dir + "/without.tsv");
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].num_classes, 0);
  EXPECT_TRUE(plain[0].class_probs.empty());
}

TEST(RegionsTsv, ReadsFilesWrittenByPythonAndPythonReadsOurs) {
  std::string dir = scratch_dir("regions_py");
  run_reference("regions_ref.py", {"write", dir + "/py.tsv", dir + "/py.json", "7"});
  auto expected = nlohmann::json::parse(read_file(dir + "/py.json"));
  auto got = read_regions_tsv(dir + "/py.tsv");
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& e = expected[i];
    EXPECT_EQ(got[i].image_id, e["image_id"].get<std::string>());
    EXPECT_EQ(got[i].width, e["w"].get<int>());
    EXPECT_EQ(got[i].num_boxes, e["n"].get<int>());
    EXPECT_EQ(got[i].boxes, e["boxes"].get<std::vector<float>>());
    EXPECT_EQ(got[i].features, e["features"].get<std::vector<float>>());
    EXPECT_EQ(got[i].class_probs, e["cls_prob"].get<std::vector<float>>());
    auto enc = encode_boxes(got[i]);
    auto want = e["encoded"].get<std::vector<float>>();
    ASSERT_EQ(enc.size(), want.size());
    for (std::size_t k = 0; k < enc.size(); ++k) EXPECT_NEAR(enc[k], want[k], 1e-6f * std::max(1.0f, std::fabs(want[k])));
  }
  // And the other way: our writer, Python's decoder.
  write_regions_tsv(dir + "/ours.tsv", {sample_regions("42", 3, 4, 0)});
  auto decoded = nlohmann::json::parse(run_reference("regions_ref.py", {"read", dir + "/ours.tsv"}));
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0]["dim"].get<int>(), 4);
  EXPECT_EQ(decoded[0]["features"].get<std::vector<float>>(), sample_regions("42", 3, 4, 0).features);
}

TEST(RegionsTsv, BoxEncodingIsNormalisedCornersAndArea) {
  const float box[4] = {64, 48, 320, 240};
  auto e = encode_box(box, 640, 480);
  EXPECT_FLOAT_EQ(e[0], 0.1f);
  EXPECT_FLOAT_EQ(e[1], 0.1f);
  EXPECT_FLOAT_EQ(e[2], 0.5f);
  EXPECT_FLOAT_EQ(e[3], 0.5f);
  EXPECT_FLOAT_EQ(e[4], 0.16f);
}

TEST(RegionsTsv, TruncatedLineNamesFileLineAndImage) {
  std::string good = line_of(sample_regions("11", 2, 3, 0));
  std::string bad = line_of(sample_regions("12", 2, 3, 0));
  // Cut inside the features field: a truncated base64 field.
  std::string cut = bad.substr(0, bad.size() - 7);
  auto why = read_error(good + cut);
  EXPECT_NE(why.find("bad.tsv: line 2: image 12: features"), std::string::npos) << why;
  // Cut before the features field: missing fields.
  why = read_error(good + bad.substr(0, bad.rfind('\t')));
  EXPECT_NE(why.find("line 2: image 12"), std::string::npos) << why;
  EXPECT_NE(why.find("5 tab-separated fields"), std::string::npos) << why;
  EXPECT_NE(why.find("truncated"), std::string::npos) << why;
}

TEST(RegionsTsv, BadBase64FieldIsNamed) {
  Regions r = sample_regions("99", 2, 3, 0);
  std::string line = fmt::format("99\t640\t480\t2\t{}\t{}\n", b64(r.boxes), b64(r.features));
  std::string corrupt = line;
  corrupt[corrupt.find('\t', 12) + 3] = '!';  // inside the boxes field
  auto why = read_error(corrupt);
  EXPECT_NE(why.find("line 1: image 99: boxes: invalid base64 character '!'"), std::string::npos) << why;
  auto py = read_error(fmt::format("99\t640\t480\t2\tb'{}'\t{}\n", b64(r.boxes), b64(r.features)));
  EXPECT_NE(py.find("bytes literal"), std::string::npos) << py;
}

TEST(RegionsTsv, CountsMustMatchNumBoxes) {
  Regions r = sample_regions("5", 2, 3, 2);
  auto why = read_error(fmt::format("5\t640\t480\t3\t{}\t{}\n", b64(r.boxes), b64(r.features)));
  EXPECT_NE(why.find("image 5: boxes: 8 float32 values, but num_boxes 3 needs 12"), std::string::npos) << why;
  std::vector<float> short_features(r.features.begin(), r.features.end() - 1);
  why = read_error(fmt::format("5\t640\t480\t2\t{}\t{}\n", b64(r.boxes), b64(short_features)));
  EXPECT_NE(why.find("features: 5 float32 values"), std::string::npos) << why;
  std::vector<float> odd_probs(r.class_probs.begin(), r.class_probs.end() - 1);
  why = read_error(fmt::format("5\t640\t480\t2\t{}\t{}\t{}\n", b64(r.boxes), b64(r.features), b64(odd_probs)));
  EXPECT_NE(why.find("cls_prob: 3 float32 values"), std::string::npos) << why;
  why = read_error(fmt::format("5\t640\t480\tzero\t{}\t{}\n", b64(r.boxes), b64(r.features)));
  EXPECT_NE(why.find("num_boxes: 'zero' is not an integer"), std::string::npos) << why;
  why = read_error(fmt::format("5\t0\t480\t2\t{}\t{}\n", b64(r.boxes), b64(r.features)));
  EXPECT_NE(why.find("image_w: 0 is not positive"), std::string::npos) << why;
}

TEST(RegionsTsv, FeatureSizeAndClassCountConsistentAcrossFile) {
  std::string a = line_of(sample_regions("1", 2, 3, 0));
  std::string b = line_of(sample_regions("2", 2, 4, 0));
  auto why = read_error(a + b);
  EXPECT_NE(why.find("line 2: image 2: features: 8 float32 values = num_boxes 2 x 4, expected feature size 3"),
            std::string::npos)
      << why;
  why = read_error(a, RegionsTsvOptions{2048, -1});
  EXPECT_NE(why.find("expected feature size 2048"), std::string::npos) << why;
  // cls_prob on some lines only.
  why = read_error(line_of(sample_regions("1", 2, 3, 5)) + a);
  EXPECT_NE(why.find("line 2: image 1: cls_prob: missing"), std::string::npos) << why;
  why = read_error(a + line_of(sample_regions("3", 2, 3, 5)));
  EXPECT_NE(why.find("line 2: image 3: cls_prob: present"), std::string::npos) << why;
}

TEST(RegionsTsv, NonFiniteAndMalformedBoxesRejected) {
  Regions r = sample_regions("8", 2, 3, 0);
  r.features[4] = std::numeric_limits<float>::quiet_NaN();
  auto why = read_error(line_of(r));
  EXPECT_NE(why.find("image 8: features: non-finite value nan at box 1, column 1"), std::string::npos) << why;
  r = sample_regions("8", 2, 3, 0);
  std::swap(r.boxes[4], r.boxes[6]);  // x1 > x2 in box 1
  why = read_error(line_of(r));
  EXPECT_NE(why.find("image 8: boxes: box 1"), std::string::npos) << why;
  EXPECT_NE(why.find("x1 > x2"), std::string::npos) << why;
  r = sample_regions("8", 2, 3, 0);
  r.boxes[2] = 700;  // beyond the 640-pixel width (tolerance 2 + 6.4)
  why = read_error(line_of(r));
  EXPECT_NE(why.find("outside the 640x480 image"), std::string::npos) << why;
  r.boxes[2] = 645;  // within tolerance: detectors pad boxes a little
  EXPECT_EQ(read_error(line_of(r)), "");
}

TEST(RegionsTsv, BlankLinesAndCrlfAccepted) {
  std::string l = format_regions_tsv_line(sample_regions("1", 1, 2, 0));
  EXPECT_EQ(read_error(l + "\r\n\n" + l + "\r\n"), "");
}
