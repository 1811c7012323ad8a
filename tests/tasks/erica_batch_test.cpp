// ERICA's batch builder on the hand-made fixture: ED rows (prefix, candidates with
// two gold tails, truncation), MLM masking rules, RD rows and pairs, the batch JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "cotrain/core/error.h"
#include "cotrain/tasks/erica_batch.h"
#include "erica_test_util.h"

using namespace cotrain;
using namespace cotrain::tasks;
using cotrain::testing::erica_fixture_corpus;
using cotrain::testing::erica_tokenizer;

namespace {

size_t label_index(const EricaDocument& doc, int64_t h, int64_t t, const std::string& r) {
  for (size_t i = 0; i < doc.aligned.labels.size(); ++i) {
    const auto& l = doc.aligned.labels[i];
    if (l.h == h && l.t == t && l.r == r) return i;
  }
  ADD_FAILURE() << "no label (" << h << ", " << t << ", " << r << ")";
  return 0;
}

}  // namespace

TEST(EricaBatch, CorpusKnowsWhatEdAndRdCanUse) {
  auto tok = erica_tokenizer();
  EricaCorpus corpus = erica_fixture_corpus(*tok, 64);
  ASSERT_EQ(corpus.docs.size(), 4u);
  EXPECT_EQ(corpus.ed_docs, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(corpus.rd_docs, (std::vector<int64_t>{0, 1, 2, 3}));
  // italy: P999 has no name, so ED may use only the two P150 triples.
  EXPECT_EQ(corpus.docs[2].ed_labels, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(corpus.docs[2].entity_names, (std::vector<std::string>{"italy", "rome", "milan", "tiber"}));
}

// (italy, contains, rome) when (italy, contains, milan) is also gold: milan is
// neither positive nor negative, the head is not a candidate.
TEST(EricaBatch, EdRowExcludesOtherGoldTails) {
  auto tok = erica_tokenizer();
  EricaCorpus corpus = erica_fixture_corpus(*tok, 64);
  const EricaDocument& italy = corpus.docs[2];
  auto ex = make_ed_row(italy, label_index(italy, 0, 1, "P150"), corpus.relation_names, *tok, 64);
  ASSERT_TRUE(ex.has_value());
  const auto& sp = tok->specials();
  // [CLS] contains administrative territorial entity italy [SEP] document [SEP]
  const std::vector<int64_t> prefix = tok->encode("contains administrative territorial entity italy");
  ASSERT_EQ(prefix.size(), 5u);
  EXPECT_EQ(ex->ids.front(), sp.cls);
  EXPECT_EQ(std::vector<int64_t>(ex->ids.begin() + 1, ex->ids.begin() + 6), prefix);
  EXPECT_EQ(ex->prefix_sep, 6);
  EXPECT_EQ(ex->ids[6], sp.sep);
  EXPECT_EQ(ex->ids.back(), sp.sep);
  EXPECT_EQ(ex->ids.size(), 1u + 5u + 1u + italy.aligned.ids.size() + 1u);
  // Entities pooled over the body: italy's one mention is word 0 of sentence 0.
  ASSERT_EQ(ex->entities.size(), 4u);
  EXPECT_EQ(ex->entities[0].mentions, (std::vector<std::pair<int64_t, int64_t>>{{7, 8}}));
  EXPECT_EQ(ex->entities[1].mentions.size(), 3u);
  EXPECT_EQ(ex->item.query, 0);
  EXPECT_EQ(ex->item.positive, 1);
  EXPECT_EQ(ex->item.candidates, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(ex->item.excluded, (std::vector<int64_t>{2}));

  auto other = make_ed_row(italy, label_index(italy, 0, 2, "P150"), corpus.relation_names, *tok, 64);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->item.positive, 2);
  EXPECT_EQ(other->item.candidates, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(other->item.excluded, (std::vector<int64_t>{1}));

  // germany: (germany, country^-1...) the P36 triple (germany, capital, berlin) has
  // no other gold tail; all four other entities are candidates.
  const EricaDocument& germany = corpus.docs[1];
  auto cap = make_ed_row(germany, label_index(germany, 1, 0, "P36"), corpus.relation_names, *tok, 64);
  ASSERT_TRUE(cap.has_value());
  EXPECT_EQ(cap->item.candidates, (std::vector<int64_t>{0, 2, 3, 4}));
  EXPECT_TRUE(cap->item.excluded.empty());
}

// The prefix shortens the room for the document: mentions past it are dropped,
// and a triple whose tail no longer fits yields no row.
TEST(EricaBatch, EdTruncationDropsEntities) {
  auto tok = erica_tokenizer();
  EricaCorpus corpus = erica_fixture_corpus(*tok, 64);
  const EricaDocument& italy = corpus.docs[2];
  // body: "italy contains rome and milan . rome lies on the tiber . milan ..."; with
  // max_length 7 + 1 + 11 the body keeps 11 tokens: up to the tiber (position 10).
  auto ex = make_ed_row(italy, label_index(italy, 0, 1, "P150"), corpus.relation_names, *tok, 7 + 11 + 1);
  ASSERT_TRUE(ex.has_value());
  EXPECT_EQ(ex->ids.size(), 19u);
  ASSERT_EQ(ex->entities.size(), 4u);
  EXPECT_EQ(ex->entities[1].mentions.size(), 2u);  // rome's third mention is gone
  auto shorter = make_ed_row(italy, label_index(italy, 0, 1, "P150"), corpus.relation_names, *tok, 7 + 10 + 1);
  ASSERT_TRUE(shorter.has_value());
  EXPECT_EQ(shorter->entities.size(), 3u);  // the tiber is gone
  EXPECT_EQ(shorter->item.candidates, (std::vector<int64_t>{1}));
  // max_length 11: the prefix is cut to (11 - 3) / 2 = 4 tokens, the body keeps 4
  // ("italy contains rome and"): milan, the tail of the other triple, is gone.
  auto cut = make_ed_row(italy, label_index(italy, 0, 1, "P150"), corpus.relation_names, *tok, 11);
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->ids.size(), 11u);
  EXPECT_EQ(cut->prefix_sep, 5);
  const std::vector<int64_t> relation = tok->encode("contains administrative territorial entity");
  EXPECT_EQ(std::vector<int64_t>(cut->ids.begin() + 1, cut->ids.begin() + 5), relation);
  EXPECT_FALSE(make_ed_row(italy, label_index(italy, 0, 2, "P150"), corpus.relation_names, *tok, 11).has_value());
}

// Masking: never a special token or a mention token; the prefix may be masked.
TEST(EricaBatch, MaskingNeverTouchesSpecialsOrMentions) {
  auto tok = erica_tokenizer();
  EricaCorpus corpus = erica_fixture_corpus(*tok, 64);
  EricaBatchOptions options;
  options.max_length = 64;
  options.mask_prob = 0.9;
  bool prefix_masked = false;
  int64_t masked = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Rng rng(seed);
    EricaBatch b = build_erica_batch(corpus, {0, 1, 2, 3}, {0, 1, 2, 3}, *tok, options, rng);
    ASSERT_EQ(b.rows.size(), 8u);
    std::vector<std::set<int64_t>> protected_positions(b.rows.size());
    for (const auto& e : b.entities)
      for (const auto& [s, end] : e.mentions)
        for (int64_t p = s; p < end; ++p) protected_positions[static_cast<size_t>(e.row)].insert(p);
    for (size_t r = 0; r < b.rows.size(); ++r) {
      const auto& row = b.rows[r];
      ASSERT_EQ(row.ids.size(), row.labels.size());
      EXPECT_EQ(row.labels.front(), -100);
      EXPECT_EQ(row.labels.back(), -100);
      EXPECT_EQ(row.ids.front(), tok->specials().cls);
      EXPECT_EQ(row.ids.back(), tok->specials().sep);
      for (int64_t p : protected_positions[r]) EXPECT_EQ(row.labels[static_cast<size_t>(p)], -100) << "row " << r;
      for (size_t p = 0; p < row.labels.size(); ++p) {
        if (row.labels[p] == -100) continue;
        ++masked;
        if (row.kind == "ed" && p >= 1 && p < 6) prefix_masked = true;
      }
      if (row.kind == "ed") {
        // The [SEP] closing the prefix is a special token too: two unmasked [SEP]s.
        int64_t seps = 0;
        for (size_t p = 0; p < row.ids.size(); ++p) seps += row.ids[p] == tok->specials().sep && row.labels[p] == -100;
        EXPECT_GE(seps, 2);
      }
    }
  }
  EXPECT_GT(masked, 100);
  EXPECT_TRUE(prefix_masked) << "the ED query tokens may be masked";

  // mlm_weight 0: nothing is masked at all.
  options.mask = false;
  Rng rng(0);
  EricaBatch b = build_erica_batch(corpus, {0}, {1}, *tok, options, rng);
  for (const auto& row : b.rows)
    for (int64_t l : row.labels) EXPECT_EQ(l, -100);
}

TEST(EricaBatch, RdRowsPairsAndJsonRoundTrip) {
  auto tok = erica_tokenizer();
  EricaCorpus corpus = erica_fixture_corpus(*tok, 64);
  EricaBatchOptions options;
  options.max_length = 64;
  options.max_na_pairs = 2;
  options.max_negatives = 6;
  Rng rng(11);
  EricaBatch b = build_erica_batch(corpus, {2}, {0, 1, 2, 3}, *tok, options, rng);
  ASSERT_EQ(b.rows.size(), 5u);
  EXPECT_EQ(b.rows[0].kind, "ed");
  for (size_t r = 1; r < 5; ++r) EXPECT_EQ(b.rows[r].kind, "rd");
  // labelled pairs: 6 + 7 + 4 + 3; NA: 2 per document.
  int64_t na = 0, labelled = 0;
  for (const auto& p : b.rd_pairs) (p.na ? na : labelled)++;
  EXPECT_EQ(labelled, 20);
  EXPECT_EQ(na, 8);
  for (const auto& p : b.rd_pairs) {
    EXPECT_EQ(b.entities[static_cast<size_t>(p.head)].row, p.row);
    EXPECT_EQ(b.entities[static_cast<size_t>(p.tail)].row, p.row);
    EXPECT_EQ(p.na, p.label == "NA");
  }
  for (const auto& a : b.rd_anchors) EXPECT_LE(a.negatives.size(), 6u);

  const nlohmann::json j = erica_batch_to_json(b);
  EricaBatch back = erica_batch_from_json(j);
  EXPECT_EQ(erica_batch_to_json(back), j);
  ASSERT_EQ(back.rows.size(), b.rows.size());
  EXPECT_EQ(back.rows[3].ids, b.rows[3].ids);

  // Damaged files are errors that name the field, never out-of-range reads.
  auto expect_error = [&](nlohmann::json damaged, const std::string& needle) {
    try {
      erica_batch_from_json(damaged);
      ADD_FAILURE() << "accepted a batch with a bad " << needle;
    } catch (const cotrain::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  nlohmann::json bad = j;
  bad["rd"]["anchors"][0]["negatives"].push_back(1000);
  expect_error(bad, "rd.anchors.negatives");
  bad = j;
  bad["entities"][0]["mentions"][0] = {3, 200};
  expect_error(bad, "entities[0]");
  bad = j;
  bad["ed"][0]["candidates"].push_back(j["entities"].size() - 1);  // an entity of another row
  expect_error(bad, "another row");
  bad = j;
  bad["input_ids"][1].erase(0);
  expect_error(bad, "row 1");
  bad = j;
  bad.erase("rd");
  expect_error(bad, "'rd'");
}
