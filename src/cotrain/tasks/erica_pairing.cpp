#include "cotrain/tasks/erica_pairing.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "cotrain/core/error.h"
#include "cotrain/tasks/erica_documents.h"

namespace cotrain::tasks {

PairKind parse_pair_kind(const std::string& value) {
  if (value == "all") return PairKind::all;
  if (value == "intra") return PairKind::intra;
  if (value == "cross") return PairKind::cross;
  fail("erica.rd_pairs: expected all, intra or cross, got '{}'", value);
}

const char* pair_kind_name(PairKind kind) {
  switch (kind) {
    case PairKind::intra: return "intra";
    case PairKind::cross: return "cross";
    default: return "all";
  }
}

std::vector<RelationInstance> relation_instances(const data::AlignedDocument& doc, int64_t doc_id, PairKind kind,
                                                 int64_t max_na, Rng& rng) {
  auto wanted = [&](bool intra) { return kind == PairKind::all || (kind == PairKind::intra) == intra; };
  std::vector<RelationInstance> out;
  std::set<std::tuple<int64_t, int64_t, std::string>> seen;
  std::set<std::pair<int64_t, int64_t>> labelled;
  for (const auto& l : doc.labels) {
    labelled.emplace(l.h, l.t);
    if (l.h == l.t || !seen.emplace(l.h, l.t, l.r).second) continue;
    const bool intra = entities_cooccur(doc, l.h, l.t);
    if (wanted(intra)) out.push_back({doc_id, l.h, l.t, l.r, false, intra});
  }
  // NA candidates: distinct pairs, not labelled, of the wanted kind; then a random
  // subset of at most max_na, kept in na_triple order.
  std::vector<std::pair<int64_t, int64_t>> na;
  std::set<std::pair<int64_t, int64_t>> na_seen;
  for (const auto& p : doc.na_triples) {
    if (p.first == p.second || labelled.count(p) || !na_seen.insert(p).second) continue;
    if (wanted(entities_cooccur(doc, p.first, p.second))) na.push_back(p);
  }
  std::vector<size_t> order(na.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (max_na >= 0 && static_cast<int64_t>(na.size()) > max_na) {
    // Partial Fisher-Yates: the first max_na slots become a uniform random subset.
    for (size_t i = 0; i < static_cast<size_t>(max_na); ++i)
      std::swap(order[i], order[i + static_cast<size_t>(rng.below(static_cast<int64_t>(order.size() - i)))]);
    order.resize(static_cast<size_t>(max_na));
    std::sort(order.begin(), order.end());
  }
  for (size_t i : order) {
    const auto& p = na[i];
    out.push_back({doc_id, p.first, p.second, "", true, entities_cooccur(doc, p.first, p.second)});
  }
  return out;
}

bool same_document_overlap(const RelationInstance& a, const RelationInstance& b) {
  return a.doc == b.doc && (a.head == b.head || a.head == b.tail || a.tail == b.head || a.tail == b.tail);
}

std::vector<RelationAnchor> pair_relation_instances(const std::vector<RelationInstance>& instances,
                                                    int64_t max_negatives, Rng& rng) {
  // Groups by label (sorted by label id, so the random draws do not depend on hash order).
  std::map<std::string, std::vector<int64_t>> groups;
  for (size_t i = 0; i < instances.size(); ++i)
    if (!instances[i].na) groups[instances[i].label].push_back(static_cast<int64_t>(i));
  std::vector<int64_t> partner(instances.size(), -1);
  for (auto& [label, members] : groups) {
    rng.shuffle(members);
    std::vector<bool> taken(members.size(), false);
    for (size_t a = 0; a < members.size(); ++a) {
      if (taken[a]) continue;
      for (size_t b = a + 1; b < members.size(); ++b) {
        if (taken[b] || same_document_overlap(instances[static_cast<size_t>(members[a])],
                                              instances[static_cast<size_t>(members[b])]))
          continue;
        taken[a] = taken[b] = true;
        partner[static_cast<size_t>(members[a])] = members[b];
        partner[static_cast<size_t>(members[b])] = members[a];
        break;
      }
    }
  }
  // Entity pairs carrying each label: an instance of another label on the same pair
  // (a pair with two relations) is the same representation, never a negative.
  std::set<std::tuple<int64_t, int64_t, int64_t, std::string>> carries;
  for (const auto& x : instances)
    if (!x.na) carries.emplace(x.doc, x.head, x.tail, x.label);

  std::vector<RelationAnchor> anchors;
  for (size_t a = 0; a < instances.size(); ++a) {
    if (partner[a] < 0) continue;
    const RelationInstance& anchor = instances[a];
    RelationAnchor out{static_cast<int64_t>(a), partner[a], {}};
    for (size_t j = 0; j < instances.size(); ++j) {
      const RelationInstance& x = instances[j];
      if (j == a || same_document_overlap(anchor, x)) continue;
      if (!x.na && (x.label == anchor.label || carries.count({x.doc, x.head, x.tail, anchor.label}))) continue;
      out.negatives.push_back(static_cast<int64_t>(j));
    }
    if (max_negatives >= 0 && static_cast<int64_t>(out.negatives.size()) > max_negatives) {
      rng.shuffle(out.negatives);
      out.negatives.resize(static_cast<size_t>(max_negatives));
      std::sort(out.negatives.begin(), out.negatives.end());
    }
    anchors.push_back(std::move(out));
  }
  return anchors;
}

}  // namespace cotrain::tasks
