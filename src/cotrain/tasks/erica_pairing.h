// Relation-discrimination pairing of ERICA (erica.md, "Relation Discrimination"),
// without tensors: which entity pairs of a batch's documents take part, which pairs
// are positives of each other and which are each anchor's negatives.
//
// Rules (erica.md, with the reference-implementation bug fixed: NA is its own label):
//  - candidates of a document: its labelled (h, t, r) instances plus up to max_na
//    pairs sampled from its na_triple list (an NA pair that is also labelled is not
//    sampled); `all`, or only `intra` (h and t share a sentence) or `cross` pairs;
//  - the instances of each (non-NA) label are shuffled and paired consecutively; an
//    instance whose next candidate is from the same document and shares its head or
//    tail skips to the following one (such pairs are never positives); what is left
//    unpaired (an odd leftover) is only a negative; NA instances are never anchors;
//  - negatives of an anchor: every other instance that is NA or whose entity pair
//    does not carry the anchor's label, except pairs of the anchor's own document
//    that share an entity with it; a random subset of max_negatives is kept.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cotrain/core/rng.h"
#include "cotrain/data/alignment.h"

namespace cotrain::tasks {

enum class PairKind { all, intra, cross };
PairKind parse_pair_kind(const std::string& value);  // "all" | "intra" | "cross"; else cotrain::Error
const char* pair_kind_name(PairKind kind);

struct RelationInstance {
  int64_t doc = 0;   // which document of the batch (any id; equal ids mean the same document)
  int64_t head = 0;  // entity indices within that document
  int64_t tail = 0;
  std::string label;  // relation id; ignored when na
  bool na = false;
  bool intra = false;  // h and t co-occur in a sentence
};

// The RD candidates of one aligned document, labelled instances first (in label
// order, duplicates removed), then the sampled NA pairs (in na_triple order).
std::vector<RelationInstance> relation_instances(const data::AlignedDocument& doc, int64_t doc_id, PairKind kind,
                                                 int64_t max_na, Rng& rng);

struct RelationAnchor {
  int64_t anchor = 0;    // instance index
  int64_t positive = 0;  // instance index of its partner
  std::vector<int64_t> negatives;  // instance indices, ascending
};

// Same document and at least one entity in common: neither positive nor negative.
bool same_document_overlap(const RelationInstance& a, const RelationInstance& b);

// Pairs the instances and lists each anchor's negatives (see the rules above).
// Anchors come out in ascending order of their instance index.
std::vector<RelationAnchor> pair_relation_instances(const std::vector<RelationInstance>& instances,
                                                    int64_t max_negatives, Rng& rng);

}  // namespace cotrain::tasks
