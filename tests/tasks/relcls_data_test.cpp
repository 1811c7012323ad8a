// Sentence-level relation classification data: word spans onto sub-word spans,
// the length cut, classes and the JSONL reader's refusals.
#include <gtest/gtest.h>

#include "cotrain/core/error.h"
#include "cotrain/tasks/relcls_data.h"
#include "erica_test_util.h"

using namespace cotrain;
using namespace cotrain::tasks;

namespace {

RelclsRaw example() {
  // "paris lies in france" ; "rivers" -> "river"? not in vocab; "flows" is one piece,
  // "contains" too, "cities" is not: [UNK]. Pieces: [CLS] paris lies in france [SEP].
  RelclsRaw r;
  r.tokens = {"Paris", "lies", "in", "France"};
  r.h = {0, 1};
  r.t = {3, 4};
  r.relation = "country";
  return r;
}

}  // namespace

TEST(RelclsData, SpansMapOntoSubwordsAndTheCutIsReported) {
  auto tokenizer = cotrain::testing::erica_tokenizer();
  const std::vector<std::string> classes = {"capital", "country", "no_relation"};
  RelclsExample ex = prepare_relcls_example(example(), *tokenizer, 64, classes);
  ASSERT_EQ(ex.ids.size(), 6u);
  EXPECT_EQ(ex.ids.front(), tokenizer->specials().cls);
  EXPECT_EQ(ex.ids.back(), tokenizer->specials().sep);
  EXPECT_EQ(ex.h, (std::pair<int64_t, int64_t>{1, 2}));
  EXPECT_EQ(ex.t, (std::pair<int64_t, int64_t>{4, 5}));
  EXPECT_EQ(ex.ids[4], tokenizer->token_to_id("france"));
  EXPECT_TRUE(ex.fits);
  EXPECT_EQ(ex.label, 1);
  // max_length 4: [CLS] paris lies [SEP]: the tail does not fit, the head does.
  RelclsExample cut = prepare_relcls_example(example(), *tokenizer, 4, classes);
  EXPECT_EQ(cut.ids.size(), 4u);
  EXPECT_EQ(cut.ids.back(), tokenizer->specials().sep);
  EXPECT_FALSE(cut.fits);
  // An unknown relation has no class.
  RelclsRaw other = example();
  other.relation = "founder";
  EXPECT_EQ(prepare_relcls_example(other, *tokenizer, 64, classes).label, -1);
}

TEST(RelclsData, ReaderRefusesBadLinesWithFileAndLine) {
  const std::string dir = cotrain::testing::scratch_dir("relcls-reader");
  const std::string good = R"({"tokens": ["a", "b", "c"], "h": {"pos": [0, 1]}, "t": {"pos": [2, 3]}, "relation": "r"})";
  auto refused = [&](const std::string& bad, const std::string& needle) {
    const std::string path = dir + "/bad.jsonl";
    cotrain::testing::write_file(path, good + "\n" + bad + "\n");
    try {
      read_relcls_jsonl(path, data::OnBadRecord::fail);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("line 2"), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
    EXPECT_EQ(read_relcls_jsonl(path, data::OnBadRecord::skip).size(), 1u);
  };
  refused(R"({"tokens": ["a"], "h": {"pos": [0, 1]}, "t": {"pos": [1, 2]}, "relation": "r"})", "t.pos");
  refused(R"({"tokens": ["a", "b"], "h": {"pos": [1, 1]}, "t": {"pos": [0, 1]}, "relation": "r"})", "h.pos");
  refused(R"({"tokens": [], "h": {"pos": [0, 1]}, "t": {"pos": [0, 1]}, "relation": "r"})", "tokens");
  refused(R"({"tokens": ["a", "b"], "h": {"pos": [0, 1]}, "t": {"pos": [1, 2]}})", "relation");
  refused("{not json", "not valid JSON");
  const std::vector<RelclsRaw> train = {example(), example()};
  EXPECT_EQ(relcls_classes(train), (std::vector<std::string>{"country"}));
}
