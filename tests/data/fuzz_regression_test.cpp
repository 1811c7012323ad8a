// Inputs found by the fuzz targets of fuzz/ (issue 8), kept as regression tests: each
// crashing file under tests/data/fuzz/ must now be refused with a cotrain::Error
// naming the file, never escape as another exception or crash.
#include <gtest/gtest.h>

#include <string>

#include "cotrain/core/error.h"
#include "cotrain/data/captions.h"
#include "cotrain/data/docred.h"
#include "support/support.h"

using namespace cotrain;
namespace ct = cotrain::testing;

namespace {

template <typename Read>
void expect_clean_refusal(const std::string& relative, const std::string& needle, Read read) {
  const std::string path = ct::source_path(relative);
  try {
    read(path);
    FAIL() << path << ": expected a cotrain::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

}  // namespace

// A number beyond double's range ("3000e0000000908119435") made nlohmann::json throw
// out_of_range, which the reader did not catch (it caught parse_error only).
TEST(DataFuzzRegression, DocredNumberOverflowIsABadFile) {
  expect_clean_refusal("tests/data/fuzz/docred-number-overflow.json", "number overflow",
                       [](const std::string& p) { data::read_docred(p); });
  // Inside a document of a list, with skip: that document is skipped and counted.
  const std::string dir = ct::scratch_dir("fuzz-docred");
  ct::write_file(dir + "/d.json", "[{\"sents\": [[\"a\"]], \"vertexSet\": [], \"labels\": [], \"x\": 1e999999}]");
  data::DocredReadOptions skip;
  skip.on_bad_record = data::OnBadRecord::skip;
  data::DocredReadReport report;
  EXPECT_TRUE(data::read_docred(dir + "/d.json", skip, &report).empty());
  EXPECT_EQ(report.skipped, 1u);
  ASSERT_EQ(report.first_reasons.size(), 1u);
  EXPECT_NE(report.first_reasons[0].find("document 0"), std::string::npos) << report.first_reasons[0];
  EXPECT_THROW(data::read_docred(dir + "/d.json"), Error);
}

TEST(DataFuzzRegression, CaptionNumberOverflowIsABadFile) {
  expect_clean_refusal("tests/data/fuzz/captions-number-overflow.json", "number overflow",
                       [](const std::string& p) { data::read_captions(p); });
  const std::string dir = ct::scratch_dir("fuzz-captions");
  ct::write_file(dir + "/c.jsonl", "{\"image\": \"a.png\", \"caption\": \"x\"}\n{\"image\": 1e400}\n");
  try {
    data::read_captions(dir + "/c.jsonl");
    FAIL() << "expected a cotrain::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}
