// The WordNet -> ERICA adapter on a hand-made WordNet of 8 synsets (fixtures/erica/
// wordnet_mini): two centers (canine: 4 neighbors, dog: 3), linking restricted to each
// document's synsets, labels from pointers, and the train/test leakage guarantee.
// The builder inputs it writes must give the same train.json through `cotrain distant`.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/data/docred.h"
#include "cotrain/data/wordnet.h"
#include "cotrain/data/wordnet_erica.h"
#include "support/support.h"

namespace data = cotrain::data;
namespace wn = cotrain::data::wordnet;
using cotrain::testing::source_path;

namespace {

wn::EricaOptions mini_options(uint64_t seed) {
  wn::EricaOptions o;
  o.seed = o.build.seed = seed;
  o.dev_fraction = 0;
  o.test_fraction = 0.5;
  o.build.min_words = 10;
  return o;
}

std::string entity_id(const data::Document& d, int64_t e) { return d.entities.at(e).mentions.at(0).id; }

std::set<std::tuple<std::string, std::string, std::string>> labels(const data::Document& d) {
  std::set<std::tuple<std::string, std::string, std::string>> out;
  for (const auto& l : d.labels) out.insert({entity_id(d, l.h), entity_id(d, l.t), l.r});
  return out;
}

}  // namespace

TEST(WordnetErica, IdsNamesAndTypes) {
  EXPECT_EQ(wn::lexname(5), "noun.animal");
  EXPECT_EQ(wn::lexname(44), "adj.ppl");
  EXPECT_EQ(wn::lexname(99), "lex.99");
  wn::Synset s;
  s.ss_type = 's';
  s.offset = 14377;
  EXPECT_EQ(wn::synset_id(s), "a00014377");
  EXPECT_EQ(wn::relation_id("\\", 'a'), "\\");
  EXPECT_EQ(wn::relation_id("\\", 'r'), "\\r");
  EXPECT_EQ(wn::pointer_name("\\", 'r'), "derived from adjective");
  EXPECT_EQ(wn::pointer_name("%p", 'n'), "part meronym");
  EXPECT_EQ(wn::pointer_name(";c", 'n'), "domain of synset - topic");
  EXPECT_EQ(wn::pointer_name("?", 'n'), "");
}

TEST(WordnetErica, DocumentsLabelsAndNoTestPairInTrain) {
  const auto db = wn::Database::load(source_path("tests/data/fixtures/erica/wordnet_mini"));
  // Find a seed that puts the two centers in different splits (each lands in test with p = 0.5).
  for (uint64_t seed = 1; seed < 64; ++seed) {
    const std::string dir = cotrain::testing::scratch_dir("wordnet_erica_" + std::to_string(seed));
    const auto report = nlohmann::json::parse(wn::write_erica_corpus(db, dir, mini_options(seed)));
    ASSERT_EQ(report.at("centers_with_enough_neighbors"), 2);
    const auto names = data::read_relation_names_json(dir + "/rel_info.json");
    EXPECT_EQ(names.at("@"), "hypernym");
    EXPECT_EQ(names.at("~"), "hyponym");
    data::DocredReadOptions read;
    read.relations = &names;
    const auto train = data::read_docred(dir + "/train.json", read);
    const auto test = data::read_docred(dir + "/test.json", read);
    if (train.size() != 1 || test.size() != 1) continue;
    const data::Document& canine = train[0].title.rfind("canine", 0) == 0 ? train[0] : test[0];
    const data::Document& dog = train[0].title.rfind("canine", 0) == 0 ? test[0] : train[0];
    EXPECT_EQ(canine.title, "canine (n00000100)");
    // Sentences: canine (definition + example), animal, dog (2), wolf, fox.
    ASSERT_EQ(canine.sents.size(), 7u);
    EXPECT_EQ(canine.sents[0], (std::vector<std::string>{"canine", ":", "a", "mammal", "like", "a", "dog", "or", "a",
                                                         "wolf"}));
    // Entities in order of first mention; "dog" is the canine's hyponym, not the frump (n00000600).
    std::vector<std::string> ids;
    for (int64_t e = 0; e < static_cast<int64_t>(canine.entities.size()); ++e) ids.push_back(entity_id(canine, e));
    EXPECT_EQ(ids, (std::vector<std::string>{"n00000100", "n00000300", "n00000400", "n00000200", "n00000500"}));
    EXPECT_EQ(canine.entities[0].mentions[0].type, "noun.animal");
    EXPECT_EQ(canine.entities[1].mentions.size(), 4u);  // canine's gloss, dog's headword twice, "the dog barked"
    const bool canine_in_test = &canine == &test[0];
    const auto canine_labels = labels(canine);
    const auto dog_labels = labels(dog);
    const std::set<std::tuple<std::string, std::string, std::string>> star = {
        {"n00000100", "n00000200", "@"}, {"n00000200", "n00000100", "~"}, {"n00000100", "n00000300", "~"},
        {"n00000300", "n00000100", "@"}, {"n00000100", "n00000400", "~"}, {"n00000400", "n00000100", "@"},
        {"n00000100", "n00000500", "~"}, {"n00000500", "n00000100", "@"}};
    std::set<std::tuple<std::string, std::string, std::string>> dog_all = {
        {"n00000300", "n00000100", "@"}, {"n00000100", "n00000300", "~"}, {"n00000300", "n00000700", "~"},
        {"n00000700", "n00000300", "@"}, {"n00000300", "n00000800", "~"}, {"n00000800", "n00000300", "@"}};
    // The (canine, dog) pair is in both documents: the train copy loses it, the test copy keeps it.
    if (canine_in_test) {
      EXPECT_EQ(canine_labels, star);
      dog_all.erase({"n00000300", "n00000100", "@"});
      dog_all.erase({"n00000100", "n00000300", "~"});
      EXPECT_EQ(dog_labels, dog_all);
    } else {
      auto star_minus = star;
      star_minus.erase({"n00000100", "n00000300", "~"});
      star_minus.erase({"n00000300", "n00000100", "@"});
      EXPECT_EQ(canine_labels, star_minus);
      EXPECT_EQ(dog_labels, dog_all);
    }
    EXPECT_EQ(report.at("train").at("leaked_labels_removed"), 2);
    // No pair of test entities is a label or NA pair of train.
    const data::Document& tr = train[0];
    std::set<std::string> test_ids;
    for (int64_t e = 0; e < static_cast<int64_t>(test[0].entities.size()); ++e) test_ids.insert(entity_id(test[0], e));
    auto both_in_test = [&](int64_t h, int64_t t) {
      return test_ids.count(entity_id(tr, h)) && test_ids.count(entity_id(tr, t));
    };
    for (const auto& l : tr.labels) EXPECT_FALSE(both_in_test(l.h, l.t));
    for (auto [h, t] : tr.na_triples) EXPECT_FALSE(both_in_test(h, t));

    // The written builder inputs reproduce train.json through the command.
    auto r = cotrain::testing::run_cotrain(
        {"distant", "--docs", dir + "/documents-train.jsonl", "--aliases", dir + "/aliases.tsv", "--triples",
         dir + "/triples.tsv", "--relations", dir + "/relations.tsv", "--out", dir + "/again.json", "--leakage",
         dir + "/dev.json", dir + "/test.json", "--ignore-case", "--ambiguous", "first", "--min-words", "10", "--seed",
         std::to_string(seed)});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(cotrain::testing::read_file(dir + "/again.json"), cotrain::testing::read_file(dir + "/train.json"));
    return;
  }
  FAIL() << "no seed split the two centers";
}

TEST(WordnetErica, CommandWritesTheSplits) {
  const std::string dir = cotrain::testing::scratch_dir("wordnet_erica_cli");
  auto r = cotrain::testing::run_cotrain({"wordnet", "--dict", source_path("tests/data/fixtures/erica/wordnet_mini"),
                                          "--erica-out", dir, "--min-words", "10", "--test-fraction", "0.5",
                                          "--dev-fraction", "0", "--corpus-out", dir + "/glosses.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"train.json", "dev.json", "test.json", "rel_info.json", "aliases.tsv", "triples.tsv",
                        "relations.tsv", "documents-train.jsonl", "stats.json"})
    EXPECT_TRUE(std::filesystem::is_regular_file(dir + "/" + f)) << f;
  EXPECT_EQ(nlohmann::json::parse(cotrain::testing::read_file(dir + "/dev.json")), nlohmann::json::array());
  EXPECT_NE(cotrain::testing::read_file(dir + "/relations.tsv").find("@\thypernym\n"), std::string::npos);
  const auto glosses = cotrain::testing::read_file(dir + "/glosses.txt");
  EXPECT_NE(glosses.find("dog: a dull unattractive woman\n"), std::string::npos);
  r = cotrain::testing::run_cotrain({"wordnet", "--dict", source_path("tests/data/fixtures/erica/wordnet_mini"),
                                     "--erica-out", dir, "--test-fraction", "0.6", "--dev-fraction", "0.5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("sum to less than 1"), std::string::npos) << r.output;
  r = cotrain::testing::run_cotrain({"wordnet", "--dict", dir + "/missing"});
  EXPECT_EQ(r.exit_code, 2);
}
