// DocRED / ERICA reader: fields, validation with file + document index + reason for
// every kind of bad record, and --on-bad-record skip|fail.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/data/docred.h"
#include "support/support.h"

namespace data = cotrain::data;
using cotrain::testing::source_path;

namespace {

const std::string kMixed = "tests/data/fixtures/erica/docred_mixed.json";

data::RelationNames relations() { return data::read_relation_names_json(source_path("tests/data/fixtures/erica/rel_info.json")); }

// The error the reader gives for document `index` of the mixed fixture, read alone.
std::string error_for(size_t index, const data::RelationNames* names) {
  auto all = nlohmann::json::parse(cotrain::testing::read_file(source_path(kMixed)));
  try {
    data::parse_document(all.at(index), "mixed.json", index, names);
  } catch (const cotrain::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DocredReader, ReadsAllFieldsOfAGoodDocument) {
  const auto names = relations();
  data::DocredReadOptions options;
  options.relations = &names;
  options.on_bad_record = data::OnBadRecord::skip;
  const auto docs = data::read_docred(source_path(kMixed), options);
  ASSERT_EQ(docs.size(), 2u);
  const data::Document& d = docs[0];
  EXPECT_EQ(d.title, "good");
  ASSERT_EQ(d.sents.size(), 2u);
  EXPECT_EQ(d.sents[1][1], "Seine");
  EXPECT_EQ(d.num_words(), 13u);
  ASSERT_EQ(d.entities.size(), 3u);
  ASSERT_EQ(d.entities[0].mentions.size(), 2u);
  EXPECT_EQ(d.entities[0].mentions[1].sent_id, 1);
  EXPECT_EQ(d.entities[0].mentions[1].begin, 4);
  EXPECT_EQ(d.entities[0].mentions[1].end, 5);
  EXPECT_EQ(d.entities[0].mentions[1].type, "LOC");
  EXPECT_EQ(d.entities[2].mentions[0].id, "Q1471");
  ASSERT_EQ(d.labels.size(), 2u);
  EXPECT_EQ(d.labels[0].r, "P17");
  EXPECT_EQ(d.labels[0].evidence, std::vector<int64_t>{0});
  EXPECT_TRUE(d.labels[1].evidence.empty());
  EXPECT_EQ(d.na_triples, (std::vector<std::pair<int64_t, int64_t>>{{2, 1}, {1, 2}}));
  // The second good one has only tokenized_sents.
  EXPECT_TRUE(docs[1].sents.empty());
  ASSERT_EQ(docs[1].tokenized_sents.size(), 2u);
  EXPECT_EQ(docs[1].tokenized_sents[0][0], (std::vector<std::string>{"par", "##is"}));
  EXPECT_EQ(docs[1].num_words(), 13u);
}

TEST(DocredReader, EveryBadRecordNamesFileDocumentAndReason) {
  const auto names = relations();
  EXPECT_EQ(error_for(0, &names), "");
  EXPECT_EQ(error_for(1, &names),
            "mixed.json: document 1: vertexSet[1][0]: span [5, 9) out of range (sentence 0 has 7 words)");
  EXPECT_EQ(error_for(2, &names),
            "mixed.json: document 2: vertexSet[2][0]: sent_id 2 out of range (document has 2 sentences)");
  EXPECT_EQ(error_for(3, &names),
            "mixed.json: document 3: labels[1]: entity index (h 1, t 3) out of range (document has 3 entities)");
  EXPECT_EQ(error_for(4, &names),
            "mixed.json: document 4: na_triple[0]: entity index (h -1, t 1) out of range (document has 3 entities)");
  EXPECT_EQ(error_for(5, &names), "mixed.json: document 5: labels[0]: unknown relation 'P999'");
  EXPECT_EQ(error_for(5, nullptr), "");  // without a relation map any id is accepted
  EXPECT_EQ(error_for(6, &names), "mixed.json: document 6: empty document (no words)");
  EXPECT_EQ(error_for(7, &names), "mixed.json: document 7: vertexSet[3]: entity has no mention");
  EXPECT_EQ(error_for(8, &names), "mixed.json: document 8: document: missing \"vertexSet\"");
  EXPECT_EQ(error_for(9, &names), "");
}

TEST(DocredReader, FailStopsAtTheFirstBadDocument) {
  data::DocredReadOptions options;  // fail is the default
  try {
    data::read_docred(source_path(kMixed), options);
    FAIL() << "no error";
  } catch (const cotrain::Error& e) {
    EXPECT_EQ(std::string(e.what()), source_path(kMixed) +
                                         ": document 1: vertexSet[1][0]: span [5, 9) out of range (sentence 0 has 7 "
                                         "words)");
  }
}

TEST(DocredReader, SkipCountsAndKeepsTheFirstReasons) {
  const auto names = relations();
  data::DocredReadOptions options;
  options.on_bad_record = data::OnBadRecord::skip;
  options.relations = &names;
  options.max_reasons = 3;
  data::DocredReadReport report;
  const auto docs = data::read_docred(source_path(kMixed), options, &report);
  EXPECT_EQ(docs.size(), 2u);
  EXPECT_EQ(report.documents, 10u);
  EXPECT_EQ(report.kept, 2u);
  EXPECT_EQ(report.skipped, 8u);
  ASSERT_EQ(report.first_reasons.size(), 3u);
  EXPECT_NE(report.first_reasons[2].find(": document 3: labels[1]"), std::string::npos);
  EXPECT_NE(report.summary().find("10 documents, 2 kept, 8 skipped"), std::string::npos);
  EXPECT_NE(report.summary().find("(5 more)"), std::string::npos);
}

TEST(DocredReader, TypeErrorsAndFileLevelErrors) {
  using nlohmann::json;
  auto error = [](const std::string& text) {
    try {
      data::parse_docred(json::parse(text), "f.json");
    } catch (const cotrain::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error(R"({"a": 1})"), "f.json: expected a JSON list of documents, got object");
  EXPECT_EQ(error(R"([{"sents": [["a"]], "vertexSet": [[{"name": "a", "sent_id": "0", "pos": [0, 1]}]]}])"),
            "f.json: document 0: vertexSet[0][0].sent_id: expected an integer, got \"0\"");
  EXPECT_EQ(error(R"([{"sents": [["a", 3]], "vertexSet": []}])"),
            "f.json: document 0: sents[0][1]: expected a string, got number");
  EXPECT_EQ(error(R"([{"sents": [["a"]], "vertexSet": [[{"name": "a", "sent_id": 0, "pos": [0]}]]}])"),
            "f.json: document 0: vertexSet[0][0].pos: expected [begin, end], got [0]");
  EXPECT_EQ(error(R"([{"sents": [["a"]], "vertexSet": [[{"name": "a", "sent_id": 0, "pos": [1, 1]}]]}])"),
            "f.json: document 0: vertexSet[0][0]: span [1, 1) out of range (sentence 0 has 1 words)");
  EXPECT_EQ(error(R"([{"vertexSet": []}])"), "f.json: document 0: neither \"sents\" nor \"tokenized_sents\"");
  EXPECT_EQ(error(R"([{"sents": [["a", "b"]], "tokenized_sents": [[["a"]]], "vertexSet": []}])"),
            "f.json: document 0: sentence 0: sents has 2 words but tokenized_sents has 1");
  EXPECT_EQ(error(R"([{"sents": [["a"]], "vertexSet": [], "labels": [{"h": 0, "t": 0, "r": [1]}]}])"),
            "f.json: document 0: labels[0].r: relation must be a string or an integer, got [1]");
  // Integer relation ids become strings.
  auto docs = data::parse_docred(
      json::parse(R"([{"sents": [["a", "b"]], "vertexSet": [[{"name": "a", "sent_id": 0, "pos": [0, 1]}],
      [{"name": "b", "sent_id": 0, "pos": [1, 2]}]], "labels": [{"h": 0, "t": 1, "r": 17}]}])"),
      "f.json");
  EXPECT_EQ(docs.at(0).labels.at(0).r, "17");
  const std::string dir = cotrain::testing::scratch_dir("docred_reader");
  cotrain::testing::write_file(dir + "/broken.json", "[{\"sents\": ");
  EXPECT_THROW(data::read_docred(dir + "/broken.json"), cotrain::Error);
  // Documents are parsed one by one: a syntax error inside one is a bad record like any other.
  cotrain::testing::write_file(dir + "/one_bad.json",
                               R"([{"sents": [["a"]], "vertexSet": []}, {"sents": }, {"sents": [["b]"]], "vertexSet": []}])");
  data::DocredReadOptions skip;
  skip.on_bad_record = data::OnBadRecord::skip;
  data::DocredReadReport report;
  const auto kept = data::read_docred(dir + "/one_bad.json", skip, &report);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[1].sents[0][0], "b]");  // a bracket inside a string is not structure
  ASSERT_EQ(report.first_reasons.size(), 1u);
  EXPECT_EQ(report.first_reasons[0].rfind(dir + "/one_bad.json: document 1: not valid JSON", 0), 0u)
      << report.first_reasons[0];
  cotrain::testing::write_file(dir + "/trailing.json", "[] []");
  EXPECT_THROW(data::read_docred(dir + "/trailing.json", skip), cotrain::Error);
  cotrain::testing::write_file(dir + "/object.json", R"( {"sents": []})");
  try {
    data::read_docred(dir + "/object.json", skip);
    FAIL() << "no error";
  } catch (const cotrain::Error& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/object.json: expected a JSON list of documents, got object");
  }
  EXPECT_THROW(data::parse_on_bad_record("ignore"), cotrain::Error);
  EXPECT_EQ(data::parse_on_bad_record("skip"), data::OnBadRecord::skip);
}

TEST(DocredReader, WriteThenReadGivesTheSameDocuments) {
  const auto names = relations();
  data::DocredReadOptions options;
  options.on_bad_record = data::OnBadRecord::skip;
  const auto docs = data::read_docred(source_path(kMixed), options);
  const std::string path = cotrain::testing::scratch_dir("docred_roundtrip") + "/out.json";
  data::write_docred(path, docs);
  const auto again = data::read_docred(path);
  ASSERT_EQ(again.size(), docs.size());
  for (size_t i = 0; i < docs.size(); ++i)
    EXPECT_EQ(data::document_to_json(again[i]), data::document_to_json(docs[i])) << "document " << i;
  EXPECT_EQ(again[0].entities[2].mentions[0].id, "Q1471");
}

TEST(DocredReader, RelationNamesMustBeStrings) {
  EXPECT_EQ(relations().at("P17"), "country");
  const std::string dir = cotrain::testing::scratch_dir("rel_info");
  cotrain::testing::write_file(dir + "/rel.json", R"({"P1": "a", "P2": 3})");
  try {
    data::read_relation_names_json(dir + "/rel.json");
    FAIL() << "no error";
  } catch (const cotrain::Error& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/rel.json: relation P2: name must be a string, got 3");
  }
}
