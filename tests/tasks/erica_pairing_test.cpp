// Relation-discrimination pairing rules (erica.md) on hand-made instances: exact
// positive and negative lists, odd leftovers, same-document exclusion, the negative
// cap, NA handling and the intra/cross switch.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cotrain/core/error.h"
#include "cotrain/tasks/erica_pairing.h"

using namespace cotrain;
using namespace cotrain::tasks;

namespace {

RelationInstance rel(int64_t doc, int64_t h, int64_t t, const std::string& label) { return {doc, h, t, label, false, false}; }
RelationInstance na(int64_t doc, int64_t h, int64_t t) { return {doc, h, t, "", true, false}; }

const RelationAnchor* find_anchor(const std::vector<RelationAnchor>& anchors, int64_t i) {
  for (const auto& a : anchors)
    if (a.anchor == i) return &a;
  return nullptr;
}

}  // namespace

// Two labels, two documents, NA pairs; every list worked out by hand.
TEST(EricaPairing, ExactListsWithSharedHeadExclusion) {
  const std::vector<RelationInstance> xs = {
      rel(0, 0, 1, "P1"),  // 0
      rel(1, 0, 1, "P1"),  // 1
      rel(0, 0, 2, "P2"),  // 2: shares head 0 with instance 0 in document 0
      rel(1, 2, 3, "P2"),  // 3
      na(0, 3, 4),         // 4
      na(1, 0, 3),         // 5: shares entity 0 with 1 and entity 3 with 3 (document 1)
  };
  for (uint64_t seed = 0; seed < 5; ++seed) {  // groups of two pair the same way whatever the shuffle
    Rng rng(seed);
    auto anchors = pair_relation_instances(xs, 64, rng);
    ASSERT_EQ(anchors.size(), 4u);
    EXPECT_EQ(anchors[0].anchor, 0);
    EXPECT_EQ(anchors[0].positive, 1);
    EXPECT_EQ(anchors[0].negatives, (std::vector<int64_t>{3, 4, 5}));
    EXPECT_EQ(anchors[1].anchor, 1);
    EXPECT_EQ(anchors[1].positive, 0);
    EXPECT_EQ(anchors[1].negatives, (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(anchors[2].anchor, 2);
    EXPECT_EQ(anchors[2].positive, 3);
    EXPECT_EQ(anchors[2].negatives, (std::vector<int64_t>{1, 4, 5}));
    EXPECT_EQ(anchors[3].anchor, 3);
    EXPECT_EQ(anchors[3].positive, 2);
    EXPECT_EQ(anchors[3].negatives, (std::vector<int64_t>{0, 1, 4}));
  }
}

// Three instances of one label: one pair, and the leftover is only a negative (of
// the other label's anchors). Which one is left over depends on the shuffle.
TEST(EricaPairing, OddLeftoverIsOnlyANegative) {
  const std::vector<RelationInstance> xs = {
      rel(0, 0, 1, "P1"), rel(1, 0, 1, "P1"), rel(2, 0, 1, "P1"), rel(3, 0, 1, "P2"), rel(4, 0, 1, "P2"),
  };
  std::set<int64_t> leftovers;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Rng rng(seed);
    auto anchors = pair_relation_instances(xs, 64, rng);
    ASSERT_EQ(anchors.size(), 4u);
    std::set<int64_t> p1;
    for (const auto& a : anchors)
      if (a.anchor < 3) p1.insert(a.anchor);
    ASSERT_EQ(p1.size(), 2u);
    int64_t leftover = 0 + 1 + 2;
    for (int64_t a : p1) leftover -= a;
    leftovers.insert(leftover);
    for (const auto& a : anchors) {
      if (a.anchor < 3) {
        EXPECT_TRUE(p1.count(a.positive)) << "P1 anchors are each other's positives";
        EXPECT_EQ(a.negatives, (std::vector<int64_t>{3, 4}));  // the leftover has the same label: not a negative
      } else {
        EXPECT_EQ(a.positive, a.anchor == 3 ? 4 : 3);
        EXPECT_EQ(a.negatives, (std::vector<int64_t>{0, 1, 2}));  // the leftover is among them
      }
    }
  }
  EXPECT_EQ(leftovers, (std::set<int64_t>{0, 1, 2}));
}

// Same document, same label, shared head: never partners. With a third instance
// from another document, that one pairs with either of them and the other is left.
TEST(EricaPairing, SameDocumentSharedHeadNeverPairs) {
  {
    Rng rng(1);
    EXPECT_TRUE(pair_relation_instances({rel(0, 0, 1, "P1"), rel(0, 0, 2, "P1")}, 64, rng).empty());
  }
  {
    // Shared tail, and a reversed pair, are the same: no partners.
    Rng rng(1);
    EXPECT_TRUE(pair_relation_instances({rel(0, 1, 5, "P1"), rel(0, 2, 5, "P1")}, 64, rng).empty());
    EXPECT_TRUE(pair_relation_instances({rel(0, 1, 5, "P1"), rel(0, 5, 1, "P1")}, 64, rng).empty());
  }
  {
    // No entity in common: positives may come from the same document.
    Rng rng(1);
    auto anchors = pair_relation_instances({rel(0, 0, 1, "P1"), rel(0, 2, 3, "P1")}, 64, rng);
    ASSERT_EQ(anchors.size(), 2u);
    EXPECT_EQ(anchors[0].positive, 1);
  }
  std::set<int64_t> partners_of_two;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    Rng rng(seed);
    auto anchors = pair_relation_instances({rel(0, 0, 1, "P1"), rel(0, 0, 2, "P1"), rel(1, 0, 1, "P1")}, 64, rng);
    ASSERT_EQ(anchors.size(), 2u) << "seed " << seed;
    const RelationAnchor* third = find_anchor(anchors, 2);
    ASSERT_NE(third, nullptr) << "the only instance that can pair is always paired";
    EXPECT_TRUE(third->positive == 0 || third->positive == 1);
    partners_of_two.insert(third->positive);
  }
  EXPECT_EQ(partners_of_two, (std::set<int64_t>{0, 1}));
}

// At most max_negatives, a random subset of the eligible ones, sorted.
TEST(EricaPairing, NegativeCapKeepsARandomSubset) {
  std::vector<RelationInstance> xs = {rel(0, 0, 1, "P1"), rel(1, 0, 1, "P1")};
  for (int64_t d = 2; d < 12; ++d) xs.push_back(na(d, 0, 1));  // 10 eligible negatives: 2..11
  std::set<std::vector<int64_t>> subsets;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed);
    auto anchors = pair_relation_instances(xs, 4, rng);
    ASSERT_EQ(anchors.size(), 2u);
    for (const auto& a : anchors) {
      ASSERT_EQ(a.negatives.size(), 4u);
      EXPECT_TRUE(std::is_sorted(a.negatives.begin(), a.negatives.end()));
      for (int64_t n : a.negatives) EXPECT_TRUE(n >= 2 && n < 12) << n;
      subsets.insert(a.negatives);
    }
    Rng again(seed);
    EXPECT_EQ(pair_relation_instances(xs, 4, again)[0].negatives, anchors[0].negatives) << "deterministic per seed";
  }
  EXPECT_GT(subsets.size(), 10u);
  Rng rng(0);
  EXPECT_EQ(pair_relation_instances(xs, 64, rng)[0].negatives.size(), 10u);
}

// NA is its own label: never an anchor, a negative of every relation (the reference
// gave NA id 0, the id of a real relation, which kept NA from being its negative).
TEST(EricaPairing, NaIsDistinctAndNeverAnAnchor) {
  std::vector<RelationInstance> xs = {na(0, 0, 1), na(1, 0, 1), na(2, 0, 1), rel(3, 0, 1, "0"), rel(4, 0, 1, "0")};
  xs[0].label = "0";  // whatever label text an NA pair carries, it stays NA
  Rng rng(3);
  auto anchors = pair_relation_instances(xs, 64, rng);
  ASSERT_EQ(anchors.size(), 2u);
  for (const auto& a : anchors) {
    EXPECT_GE(a.anchor, 3);
    EXPECT_EQ(a.negatives, (std::vector<int64_t>{0, 1, 2}));
  }
}

// An entity pair with two relations is one representation: the instance of its
// other relation is not a negative of an anchor whose label the pair also carries.
TEST(EricaPairing, PairCarryingTheAnchorLabelIsNoNegative) {
  const std::vector<RelationInstance> xs = {
      rel(0, 0, 1, "P1"),  // 0
      rel(0, 0, 1, "P2"),  // 1: same pair as 0
      rel(1, 3, 4, "P1"),  // 2
      rel(2, 0, 1, "P2"),  // 3
  };
  Rng rng(0);
  auto anchors = pair_relation_instances(xs, 64, rng);
  const RelationAnchor* a2 = find_anchor(anchors, 2);
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(a2->positive, 0);
  EXPECT_EQ(a2->negatives, (std::vector<int64_t>{3}));  // not 1: its pair carries P1 too
  const RelationAnchor* a3 = find_anchor(anchors, 3);
  ASSERT_NE(a3, nullptr);
  EXPECT_EQ(a3->positive, 1);
  EXPECT_EQ(a3->negatives, (std::vector<int64_t>{2}));  // not 0 (pair carries P2)
}

namespace {

// Entities 0..4; sentence of each mention given; entity 4 has two mentions.
data::AlignedDocument hand_document() {
  data::AlignedDocument d;
  auto m = [](int64_t sent) { return data::AlignedMention{0, 1, sent}; };
  d.entities = {{m(0)}, {m(0)}, {m(1)}, {m(2)}, {m(1), m(2)}};
  auto label = [](int64_t h, int64_t t, const char* r) {
    data::Label l;
    l.h = h;
    l.t = t;
    l.r = r;
    return l;
  };
  d.labels = {label(0, 1, "P1"), label(0, 1, "P1"), label(0, 2, "P2"), label(3, 3, "P3"), label(2, 4, "P1")};
  d.na_triples = {{1, 2}, {0, 1}, {3, 4}, {1, 2}, {2, 2}, {4, 0}, {0, 3}};
  return d;
}

}  // namespace

TEST(EricaPairing, InstancesOfADocument) {
  const data::AlignedDocument d = hand_document();
  Rng rng(0);
  auto xs = relation_instances(d, 7, PairKind::all, 32, rng);
  // Labels: duplicate (0,1,P1) and the self-loop (3,3) dropped; NA: the labelled
  // (0,1), the repeat of (1,2) and the self-pair (2,2) dropped.
  ASSERT_EQ(xs.size(), 3u + 4u);
  EXPECT_EQ(xs[0].head, 0);
  EXPECT_EQ(xs[0].tail, 1);
  EXPECT_TRUE(xs[0].intra);
  EXPECT_FALSE(xs[1].intra);  // entities 0 and 2: sentences 0 and 1
  EXPECT_TRUE(xs[2].intra);   // entities 2 and 4 share sentence 1
  const std::vector<std::pair<int64_t, int64_t>> na_pairs = {{1, 2}, {3, 4}, {4, 0}, {0, 3}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(xs[3 + i].na);
    EXPECT_EQ(xs[3 + i].doc, 7);
    EXPECT_EQ(std::make_pair(xs[3 + i].head, xs[3 + i].tail), na_pairs[i]);
  }

  Rng intra_rng(0);
  auto intra = relation_instances(d, 7, PairKind::intra, 32, intra_rng);
  for (const auto& x : intra) EXPECT_TRUE(x.intra);
  EXPECT_EQ(intra.size(), 2u + 1u);  // (0,1), (2,4); NA (3,4)
  Rng cross_rng(0);
  auto cross = relation_instances(d, 7, PairKind::cross, 32, cross_rng);
  for (const auto& x : cross) EXPECT_FALSE(x.intra);
  EXPECT_EQ(cross.size(), 1u + 3u);

  // At most max_na NA pairs, a random subset kept in na_triple order.
  std::set<std::vector<std::pair<int64_t, int64_t>>> subsets;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng r(seed);
    auto some = relation_instances(d, 7, PairKind::all, 2, r);
    ASSERT_EQ(some.size(), 3u + 2u);
    std::vector<std::pair<int64_t, int64_t>> picked;
    for (size_t i = 3; i < some.size(); ++i) picked.emplace_back(some[i].head, some[i].tail);
    auto pos = [&](const std::pair<int64_t, int64_t>& p) {
      return std::find(na_pairs.begin(), na_pairs.end(), p) - na_pairs.begin();
    };
    EXPECT_LT(pos(picked[0]), pos(picked[1]));
    EXPECT_LT(pos(picked[1]), 4);
    subsets.insert(picked);
  }
  EXPECT_GT(subsets.size(), 3u);
  Rng zero(0);
  EXPECT_EQ(relation_instances(d, 7, PairKind::all, 0, zero).size(), 3u);
}

TEST(EricaPairing, PairKindNames) {
  EXPECT_EQ(parse_pair_kind("intra"), PairKind::intra);
  EXPECT_EQ(parse_pair_kind("cross"), PairKind::cross);
  EXPECT_EQ(parse_pair_kind("all"), PairKind::all);
  EXPECT_THROW(parse_pair_kind("both"), cotrain::Error);
}
