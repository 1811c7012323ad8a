// ERICA's micro-batch (erica.md): ED rows "[CLS] relation-name head-name [SEP]
// document [SEP]" and RD rows "[CLS] document [SEP]", masked for MLM, with the
// entity mention spans, the ED examples and the RD pairs and anchors, all as plain
// data. The same structure is what `cotrain batch --task erica` writes as JSON and
// what `cotrain loss` and the PyTorch twin (tests/reference/erica_twin.py) read.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cotrain/core/rng.h"
#include "cotrain/tasks/erica_documents.h"
#include "cotrain/tasks/erica_pairing.h"

namespace cotrain::tasks {

struct EricaRow {
  std::string kind;              // "ed" | "rd"
  int64_t doc = 0;               // EricaDocument::index
  std::vector<int64_t> ids;      // with specials, masked, unpadded
  std::vector<int64_t> labels;   // MLM targets, -100 where nothing is predicted
};

// An entity of one row: its mention spans as [begin, end) token positions of that row.
struct EricaEntity {
  int64_t row = 0;
  int64_t doc_entity = 0;  // index among the document's aligned entities
  std::vector<std::pair<int64_t, int64_t>> mentions;
};

struct EricaEdItem {
  int64_t row = 0;
  std::string relation;             // relation id of the sampled triple
  int64_t query = 0;                // batch entity index of the head
  int64_t positive = 0;             // batch entity index of the tail
  std::vector<int64_t> candidates;  // batch entity indices in the denominator (positive included)
  std::vector<int64_t> excluded;    // other gold tails of (h, r), left out of the candidates
};

struct EricaRdPair {
  int64_t row = 0;
  int64_t head = 0, tail = 0;  // batch entity indices
  std::string label;           // relation id, or "NA"
  bool na = false;
  bool intra = false;
};

struct EricaBatch {
  std::vector<EricaRow> rows;  // ED rows first, then RD rows
  std::vector<EricaEntity> entities;
  std::vector<EricaEdItem> ed;
  std::vector<EricaRdPair> rd_pairs;
  std::vector<RelationAnchor> rd_anchors;  // indices into rd_pairs
  int64_t pad_id = 0;
};

struct EricaBatchOptions {
  int64_t max_length = 512;  // tokens per row, specials included
  double mask_prob = 0.15;
  bool mask = true;          // false when the MLM weight is 0: inputs stay intact
  int64_t max_na_pairs = 32;
  int64_t max_negatives = 64;
  PairKind pairs = PairKind::all;
};

// One ED row, unmasked: the document with its prefix, the entities that survive
// the (prefix-shortened) truncation and the example over them (entity indices local
// to the row). Empty when the head or the tail does not survive.
struct EdRowExample {
  std::vector<int64_t> ids;
  int64_t prefix_sep = 0;             // position of the [SEP] after the prefix
  std::vector<EricaEntity> entities;  // row = 0, local
  EricaEdItem item;                   // indices into `entities`
};
std::optional<EdRowExample> make_ed_row(const EricaDocument& doc, size_t label_index, const data::RelationNames& names,
                                        const text::Tokenizer& tokenizer, int64_t max_length);

// Builds a micro-batch from the given documents (indices into corpus.docs), drawing
// the ED triples, NA pairs, masks, pairings and negative subsets from `rng`. An ED
// document none of whose named triples survives the truncation contributes no row.
EricaBatch build_erica_batch(const EricaCorpus& corpus, const std::vector<int64_t>& ed_docs,
                             const std::vector<int64_t>& rd_docs, const text::Tokenizer& tokenizer,
                             const EricaBatchOptions& options, Rng& rng);

// JSON of a batch (see tests/reference/erica_twin.py for the layout) and back. The
// reader checks every index, so a hand-edited file cannot make the loss read out of
// range; problems are cotrain::Error naming the field.
nlohmann::json erica_batch_to_json(const EricaBatch& batch);
EricaBatch erica_batch_from_json(const nlohmann::json& j);

}  // namespace cotrain::tasks
