// The search itself (no HTTP): exact ranking equals a brute-force dot product with
// the model's query embedding, and bad queries are refused with a status and reason.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "cotrain/serve/search_service.h"
#include "serve/serve_fixture.h"
#include "support/support.h"

namespace sv = cotrain::serve;
using cotrain::serve_test::make_collection;

namespace {
sv::SearchService make_service(const cotrain::serve_test::Collection& c, sv::SearchLimits limits = {}) {
  return sv::SearchService(sv::load_index(c.index), std::make_unique<sv::UnimoEncoder>(c.model, c.encoder), limits);
}

int status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const sv::BadRequest& e) {
    return e.status;
  }
  return 200;
}
}  // namespace

TEST(ServeSearch, RankingIsTheBruteForceCosineOrder) {
  auto c = make_collection("search-rank");
  auto service = make_service(c);
  sv::UnimoEncoder encoder(c.model, c.encoder);
  for (const std::string query : {"smiling face", "a red heart", "dog"}) {
    auto answer = service.text_to_images(query, 6);
    ASSERT_EQ(answer["results"].size(), 6u);
    at::Tensor scores = at::mv(service.index().images, encoder.encode_texts({query})[0]);
    std::vector<int64_t> order(6);
    for (int64_t i = 0; i < 6; ++i) order[static_cast<size_t>(i)] = i;
    std::sort(order.begin(), order.end(),
              [&](int64_t a, int64_t b) { return scores[a].item<float>() > scores[b].item<float>(); });
    for (size_t r = 0; r < 6; ++r) {
      const auto& item = answer["results"][r];
      EXPECT_EQ(item["rank"], r + 1);
      EXPECT_EQ(item["id"], c.image_names[static_cast<size_t>(order[r])]) << query << " rank " << r + 1;
      EXPECT_NEAR(item["score"].get<double>(), scores[order[r]].item<float>(), 1e-6);
      EXPECT_EQ(item["thumbnail"], "/" + sv::thumbnail_name(order[r]));
    }
  }
  // k smaller than the collection: the top of the same list.
  auto top2 = service.text_to_images("smiling face", 2);
  auto all = service.text_to_images("smiling face", 6);
  ASSERT_EQ(top2["results"].size(), 2u);
  EXPECT_EQ(top2["results"][1]["id"], all["results"][1]["id"]);
  // k larger than the collection: all of it.
  EXPECT_EQ(service.text_to_texts("cat", 50)["results"].size(), 6u);
}

TEST(ServeSearch, AnIndexedItemFindsItselfFirst) {
  auto c = make_collection("search-self");
  auto service = make_service(c);
  for (size_t i = 0; i < c.text_lines.size(); ++i) {
    auto answer = service.text_to_texts(c.text_lines[i], 3);
    EXPECT_EQ(answer["results"][0]["text"], c.text_lines[i]);
    EXPECT_NEAR(answer["results"][0]["score"].get<double>(), 1.0, 1e-5);
  }
  for (size_t i = 0; i < c.image_names.size(); ++i) {
    auto answer = service.image_to_images(cotrain::testing::read_file(c.images + "/" + c.image_names[i]), 3);
    EXPECT_EQ(answer["results"][0]["id"], c.image_names[i]);
    EXPECT_NEAR(answer["results"][0]["score"].get<double>(), 1.0, 1e-5);
  }
  auto texts = service.image_to_texts(cotrain::testing::read_file(c.images + "/red.png"), 6);
  ASSERT_EQ(texts["results"].size(), 6u);
  EXPECT_EQ(texts["mode"], "image-to-texts");
  EXPECT_TRUE(texts["results"][0].contains("text"));
  EXPECT_GE(texts["results"][0]["score"].get<double>(), texts["results"][5]["score"].get<double>());
}

TEST(ServeSearch, BadQueriesAreRefusedWithAStatus) {
  auto c = make_collection("search-bad");
  sv::SearchLimits limits;
  limits.max_k = 20;
  limits.max_query_bytes = 50;
  limits.max_image_pixels = 1000 * 1000;
  auto service = make_service(c, limits);
  EXPECT_EQ(status_of([&] { service.text_to_images("cat", 0); }), 400);
  EXPECT_EQ(status_of([&] { service.text_to_images("cat", 21); }), 400);
  EXPECT_EQ(status_of([&] { service.text_to_images("cat", 20); }), 200);
  EXPECT_EQ(status_of([&] { service.text_to_images("   ", 5); }), 400);
  EXPECT_EQ(status_of([&] { service.text_to_images(std::string(51, 'a'), 5); }), 413);
  EXPECT_EQ(status_of([&] { service.text_to_texts("caf\xc3", 5); }), 400);  // torn UTF-8
  EXPECT_EQ(status_of([&] { service.image_to_texts("", 5); }), 400);
  EXPECT_EQ(status_of([&] { service.image_to_texts("hello, not an image", 5); }), 415);
  // A PNG header announcing 5000 x 5000 pixels: refused before decoding.
  std::string png = cotrain::serve_test::solid_png(8, 8, 1, 2, 3);
  png[16] = 0; png[17] = 0; png[18] = 0x13; png[19] = static_cast<char>(0x88);  // width 5000
  png[20] = 0; png[21] = 0; png[22] = 0x13; png[23] = static_cast<char>(0x88);  // height 5000
  int64_t w = 0, h = 0;
  ASSERT_TRUE(sv::image_header_size(png, w, h));
  EXPECT_EQ(w, 5000);
  EXPECT_EQ(h, 5000);
  EXPECT_EQ(status_of([&] { service.image_to_texts(png, 5); }), 413);
  // A truncated PNG with a plausible header: the decoder's reason, as 400.
  std::string cut = cotrain::serve_test::solid_png(40, 40, 9, 9, 9);
  cut.resize(60);
  EXPECT_EQ(status_of([&] { service.image_to_images(cut, 5); }), 400);
}
