// The search page in headless Chromium: /?q=... fills the query box and the page
// fetches and renders results (thumbnails included); a screenshot is kept in
// test-artifacts/search-page.png.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "serve/chromium.h"
#include "serve/running_server.h"

using cotrain::serve_test::find_chromium;
using cotrain::serve_test::run_chromium;

TEST(ServeBrowser, QueryInTheUrlRendersTheResultGrid) {
  if (find_chromium().empty()) GTEST_SKIP() << "no chromium binary (Debian package 'chromium', see scripts/setup.sh)";
  auto c = cotrain::serve_test::make_collection("browser-page");
  cotrain::serve_test::RunningServer server(c);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  const auto expected = server.service().text_to_images("smiling face", 10)["results"];
  ASSERT_EQ(expected.size(), 6u);

  const std::string dom = run_chromium(base + "/?q=smiling%20face", {"--dump-dom", "--virtual-time-budget=10000"});
  // The query box holds the query, the status line counts the results, and the grid
  // lists every image in the API's order with its thumbnail.
  std::regex fig_re("<figure class=\"result\" data-id=\"([^\"]+)\" data-rank=\"(\\d+)\"><img src=\"([^\"]+)\"");
  std::vector<std::string> ids, srcs;
  for (std::sregex_iterator it(dom.begin(), dom.end(), fig_re), end; it != end; ++it) {
    ids.push_back((*it)[1]);
    srcs.push_back((*it)[3]);
  }
  ASSERT_EQ(ids.size(), 6u) << dom.substr(0, 3000);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(ids[i], expected[i]["id"].get<std::string>());
    EXPECT_EQ(srcs[i], expected[i]["thumbnail"].get<std::string>());
  }
  EXPECT_NE(dom.find("6 results in"), std::string::npos);

  // Text -> texts through the mode parameter.
  const std::string texts = run_chromium(base + "/?q=a%20cat&mode=text-to-texts", {"--dump-dom", "--virtual-time-budget=10000"});
  EXPECT_NE(texts.find("<div id=\"results\" class=\"texts\">"), std::string::npos) << texts.substr(0, 2000);
  EXPECT_NE(texts.find("<figcaption>a cat <span class=\"score\">1.000</span></figcaption>"), std::string::npos);

  // Screenshot: the thumbnails are drawn (pure red and blue pixels from red.png / blue.png).
  const std::string png = cotrain::serve_test::artifacts_dir() + "/search-page.png";
  std::filesystem::remove(png);
  run_chromium(base + "/?q=smiling%20face", {"--screenshot=" + png, "--window-size=1000,700",
                                             "--virtual-time-budget=10000"});
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(cotrain::serve_test::count_pixels_near(png, 255, 0, 0, 8), 1000);
  EXPECT_GT(cotrain::serve_test::count_pixels_near(png, 0, 0, 255, 8), 1000);
}
