// `cotrain index`: what the index folder holds, that its rows are the model's
// embeddings of each item alone (batching and padding change nothing), thumbnails,
// and refused inputs.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>

#include "cotrain/core/error.h"
#include "cotrain/io/image.h"
#include "cotrain/serve/embedding_index.h"
#include "serve/serve_fixture.h"
#include "support/support.h"

using cotrain::testing::read_file;
using cotrain::testing::run_cotrain;
using cotrain::testing::write_file;
namespace sv = cotrain::serve;

TEST(ServeIndex, RowsAreEachItemEncodedAloneAndNormalised) {
  auto c = cotrain::serve_test::make_collection("index-rows");
  sv::EmbeddingIndex index = sv::load_index(c.index);
  ASSERT_EQ(index.image_entries.size(), 6u);  // notes.txt skipped
  ASSERT_EQ(index.text_entries.size(), 6u);   // the blank line skipped
  EXPECT_EQ(index.dim(), 16);
  for (size_t i = 0; i < c.image_names.size(); ++i) EXPECT_EQ(index.image_entries[i].id, c.image_names[i]);
  EXPECT_EQ(index.text_entries[3].id, "line 5");  // ids are line numbers of the file
  EXPECT_EQ(index.text_entries[3].text, "a blue square");
  EXPECT_TRUE(at::allclose(index.images.norm(2, {1}), at::ones({6}), 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(index.texts.norm(2, {1}), at::ones({6}), 1e-5, 1e-6));

  // Built in batches of 4 (texts padded to the longest) == each encoded alone.
  sv::UnimoEncoder encoder(c.model, c.encoder);
  for (size_t i = 0; i < c.text_lines.size(); ++i) {
    at::Tensor alone = encoder.encode_texts({c.text_lines[i]})[0];
    EXPECT_LT((alone - index.texts[static_cast<int64_t>(i)]).abs().max().item<float>(), 2e-6) << c.text_lines[i];
  }
  for (size_t i = 0; i < c.image_names.size(); ++i) {
    at::Tensor alone = encoder.encode_images({cotrain::io::load_image(c.images + "/" + c.image_names[i])})[0];
    EXPECT_LT((alone - index.images[static_cast<int64_t>(i)]).abs().max().item<float>(), 2e-6) << c.image_names[i];
  }
  // Distinct inputs, distinct rows (the model is not collapsing everything).
  EXPECT_LT(at::dot(index.texts[0], index.texts[1]).item<float>(), 0.99999f);
  EXPECT_LT(at::dot(index.images[0], index.images[2]).item<float>(), 0.99999f);
}

TEST(ServeIndex, ThumbnailsAreSmallPngsInsideTheIndex) {
  auto c = cotrain::serve_test::make_collection("index-thumbs");
  sv::EmbeddingIndex index = sv::load_index(c.index);
  for (size_t i = 0; i < index.image_entries.size(); ++i) {
    const auto& e = index.image_entries[i];
    EXPECT_EQ(e.thumbnail, sv::thumbnail_name(static_cast<int64_t>(i)));
    auto thumb = cotrain::io::load_image(c.index + "/" + e.thumbnail);
    auto original = cotrain::io::load_image(e.source);
    EXPECT_LE(std::max(thumb.width, thumb.height), 96);
    if (std::max(original.width, original.height) <= 96) {
      EXPECT_EQ(thumb.width, original.width);  // small images are kept as they are
      EXPECT_EQ(thumb.height, original.height);
    }
  }
  // yellow-wide.png is 200 x 100: scaled to 96 x 48, still yellow in its lower right.
  ASSERT_EQ(index.image_entries[4].id, "yellow-wide.png");
  auto wide = cotrain::io::load_image(c.index + "/" + index.image_entries[4].thumbnail);
  EXPECT_EQ(wide.width, 96);
  EXPECT_EQ(wide.height, 48);
  const float* p = wide.pixel(40, 90);
  EXPECT_NEAR(p[0], 1.0, 0.01);
  EXPECT_NEAR(p[1], 220 / 255.0, 0.01);
  EXPECT_NEAR(p[2], 0.0, 0.01);

  EXPECT_TRUE(sv::is_thumbnail_name("thumbs/0000012.png"));
  for (const char* bad : {"thumbs/../ids.json", "thumbs/12.png", "/thumbs/0000012.png", "thumbs/000001a.png",
                          "thumbs/0000012.png/..", "thumbs/0000012.PNG", "ids.json"})
    EXPECT_FALSE(sv::is_thumbnail_name(bad)) << bad;
}

TEST(ServeIndex, TamperedOrMismatchedIndexesAreRefusedWithTheReason) {
  auto c = cotrain::serve_test::make_collection("index-tamper");
  const std::string ids = read_file(c.index + "/ids.json");
  auto expect_refused = [&](const std::string& contents, const std::string& expected) {
    write_file(c.index + "/ids.json", contents);
    try {
      sv::load_index(c.index);
      ADD_FAILURE() << "accepted: " << expected;
    } catch (const cotrain::Error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  };
  std::string bad = ids;
  bad.replace(bad.find("thumbs/0000001.png"), 18, "thumbs/../ids.json");
  expect_refused(bad, "images[1]: thumbnail \"thumbs/../ids.json\" is not of the form");
  bad = ids;
  bad.replace(bad.find("\"a red heart\""), 13, "17");
  expect_refused(bad, "texts[0]: \"text\" must be a string");
  // one more text entry than rows: the shapes disagree
  bad = ids;
  bad.replace(bad.rfind(']'), 1, ", {\"id\": \"extra\", \"text\": \"x\"}]");
  expect_refused(bad, "\"texts\" has shape [6, 16], expected [7, 16]");
  write_file(c.index + "/ids.json", ids);
  EXPECT_NO_THROW(sv::load_index(c.index));
}

TEST(ServeIndex, CommandLineWritesTheSameIndexAndRefusesBadInput) {
  auto c = cotrain::serve_test::make_collection("index-cli");
  const std::string out = c.root + "/cli-index";
  auto r = run_cotrain({"index", "--model", c.model, "--images", c.images, "--texts", c.texts, "--out", out,
                        "--size", "16", "--grid", "2", "--pool", "2", "--batch-size", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("index: 6 images (6 thumbnails), 6 texts, width 16"), std::string::npos) << r.output;
  auto a = sv::load_index(c.index), b = sv::load_index(out);
  EXPECT_LT((a.images - b.images).abs().max().item<float>(), 2e-6);
  EXPECT_LT((a.texts - b.texts).abs().max().item<float>(), 2e-6);
  EXPECT_EQ(read_file(c.index + "/thumbs/0000002.png"), read_file(out + "/thumbs/0000002.png"));

  // Grid of the wrong width for the model.
  r = run_cotrain({"index", "--model", c.model, "--images", c.images, "--out", out, "--size", "16", "--grid", "2",
                   "--pool", "4"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("grid regions have 48 features"), std::string::npos) << r.output;
  r = run_cotrain({"index", "--model", c.model, "--images", c.images, "--regions", "x.tsv", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("give one of --images, --regions, --captions"), std::string::npos) << r.output;
  r = run_cotrain({"index", "--model", c.root, "--texts", c.texts, "--out", out});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  // A corrupt image names its file.
  write_file(c.images + "/broken.png", "\x89PNG\r\n\x1a\nnot really");
  r = run_cotrain({"index", "--model", c.model, "--images", c.images, "--out", out, "--size", "16", "--grid", "2",
                   "--pool", "2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("broken.png"), std::string::npos) << r.output;
}
