// `cotrain nearest` on hand-made embeddings.
#include <gtest/gtest.h>

#include "support/support.h"

namespace ct = cotrain::testing;

TEST(CliNearest, RanksByCosineAndCentersOnRequest) {
  const std::string dir = ct::scratch_dir("nearest");
  // Raw cosines of a: b 0.980, c 0.952, d 0.968 -> b. After subtracting the mean
  // row (9.5, -0.75, 0.5): b -0.420, c 0.238, d -0.831 -> c (worked with numpy).
  ct::write_file(dir + "/e.jsonl",
                 "{\"text\": \"a\", \"embedding\": [11, -2, 2]}\n"
                 "{\"text\": \"b\", \"embedding\": [7, -2, 0]}\n"
                 "{\"text\": \"c\", \"embedding\": [13, 1, 0]}\n"
                 "{\"text\": \"d\", \"embedding\": [7, 0, 0]}\n");
  auto raw = ct::run_cotrain({"nearest", "--embeddings", dir + "/e.jsonl", "--query", "a", "--k", "1"});
  ASSERT_EQ(raw.exit_code, 0) << raw.output;
  EXPECT_NE(raw.output.find("a               b ("), std::string::npos) << raw.output;
  auto centered = ct::run_cotrain({"nearest", "--embeddings", dir + "/e.jsonl", "--query", "a", "--k", "1", "--center"});
  ASSERT_EQ(centered.exit_code, 0) << centered.output;
  EXPECT_NE(centered.output.find("a               c ("), std::string::npos) << centered.output;
}

TEST(CliNearest, MalformedLineAndUnknownQueryAreNamed) {
  const std::string dir = ct::scratch_dir("nearest-bad");
  ct::write_file(dir + "/bad.jsonl", "{\"text\": \"a\", \"embedding\": [1, 2]}\n{\"text\": \"b\"}\n");
  auto r = ct::run_cotrain({"nearest", "--embeddings", dir + "/bad.jsonl"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad.jsonl:2"), std::string::npos) << r.output;
  ct::write_file(dir + "/ok.jsonl", "{\"text\": \"a\", \"embedding\": [1, 2]}\n{\"text\": \"b\", \"embedding\": [2, 1]}\n");
  r = ct::run_cotrain({"nearest", "--embeddings", dir + "/ok.jsonl", "--query", "zebra"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("zebra"), std::string::npos) << r.output;
}
