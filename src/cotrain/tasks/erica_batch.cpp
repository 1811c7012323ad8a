#include "cotrain/tasks/erica_batch.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "cotrain/core/error.h"
#include "cotrain/data/mlm_masking.h"

namespace cotrain::tasks {
namespace {

using json = nlohmann::json;

// Masks a row in place: never the special tokens at `specials`, never a token
// inside a mention of the row's entities (they carry the contrastive signal).
std::vector<int64_t> mask_row(std::vector<int64_t>& ids, const std::vector<int64_t>& specials,
                              const std::vector<EricaEntity>& entities, const text::Tokenizer& tokenizer,
                              const EricaBatchOptions& options, Rng& rng) {
  if (!options.mask) return std::vector<int64_t>(ids.size(), data::kIgnoreLabel);
  std::vector<bool> maskable(ids.size(), true);
  for (int64_t p : specials) maskable[static_cast<size_t>(p)] = false;
  for (const auto& e : entities)
    for (const auto& [b, end] : e.mentions)
      for (int64_t p = b; p < end; ++p) maskable[static_cast<size_t>(p)] = false;
  data::MaskingOptions masking;
  masking.mask_prob = options.mask_prob;
  masking.mask_id = tokenizer.specials().mask;
  masking.vocab_size = tokenizer.vocab_size();
  return data::mask_tokens(ids, maskable, masking, rng);
}

}  // namespace

std::optional<EdRowExample> make_ed_row(const EricaDocument& doc, size_t label_index, const data::RelationNames& names,
                                        const text::Tokenizer& tokenizer, int64_t max_length) {
  const auto& aligned = doc.aligned;
  const data::Label& label = aligned.labels.at(label_index);
  auto name = names.find(label.r);
  if (name == names.end()) return std::nullopt;
  const auto& sp = tokenizer.specials();
  std::vector<int64_t> prefix = tokenizer.encode(name->second + " " + doc.entity_names.at(static_cast<size_t>(label.h)));
  // A very long relation or entity name must still leave room for the document.
  const size_t max_prefix = static_cast<size_t>(std::max<int64_t>(0, (max_length - 3) / 2));
  if (prefix.size() > max_prefix) prefix.resize(max_prefix);
  const int64_t offset = static_cast<int64_t>(prefix.size()) + 2;  // [CLS] prefix [SEP]
  const int64_t body = std::min<int64_t>(static_cast<int64_t>(aligned.ids.size()), max_length - offset - 1);
  if (body <= 0) return std::nullopt;

  EdRowExample out;
  out.ids.push_back(sp.cls);
  out.ids.insert(out.ids.end(), prefix.begin(), prefix.end());
  out.prefix_sep = static_cast<int64_t>(out.ids.size());
  out.ids.push_back(sp.sep);
  out.ids.insert(out.ids.end(), aligned.ids.begin(), aligned.ids.begin() + body);
  out.ids.push_back(sp.sep);
  // Entities whose mentions survive the shorter body (the prefix took room).
  std::vector<int64_t> local(aligned.entities.size(), -1);
  for (size_t e = 0; e < aligned.entities.size(); ++e) {
    EricaEntity entity{0, static_cast<int64_t>(e), {}};
    for (const auto& m : aligned.entities[e])
      if (m.end <= body) entity.mentions.emplace_back(m.begin + offset, m.end + offset);
    if (entity.mentions.empty()) continue;
    local[e] = static_cast<int64_t>(out.entities.size());
    out.entities.push_back(std::move(entity));
  }
  const int64_t h = local.at(static_cast<size_t>(label.h)), t = local.at(static_cast<size_t>(label.t));
  if (h < 0 || t < 0) return std::nullopt;
  EricaEdItem& item = out.item;
  item.relation = label.r;
  item.query = h;
  item.positive = t;
  // Other gold tails of (h, r) are true answers too: neither positive nor negative.
  std::vector<bool> excluded(out.entities.size(), false);
  for (const auto& l : aligned.labels) {
    if (l.h != label.h || l.r != label.r || l.t == label.t) continue;
    const int64_t other = local.at(static_cast<size_t>(l.t));
    if (other >= 0 && other != h && !excluded[static_cast<size_t>(other)]) {
      excluded[static_cast<size_t>(other)] = true;
      item.excluded.push_back(other);
    }
  }
  std::sort(item.excluded.begin(), item.excluded.end());
  for (int64_t e = 0; e < static_cast<int64_t>(out.entities.size()); ++e)
    if (e != h && !excluded[static_cast<size_t>(e)]) item.candidates.push_back(e);
  return out;
}

EricaBatch build_erica_batch(const EricaCorpus& corpus, const std::vector<int64_t>& ed_docs,
                             const std::vector<int64_t>& rd_docs, const text::Tokenizer& tokenizer,
                             const EricaBatchOptions& options, Rng& rng) {
  const auto& sp = tokenizer.specials();
  EricaBatch batch;
  batch.pad_id = sp.pad;
  auto document = [&](int64_t index) -> const EricaDocument& {
    if (index < 0 || index >= static_cast<int64_t>(corpus.docs.size()))
      fail("erica batch: document {} out of range [0, {})", index, corpus.docs.size());
    return corpus.docs[static_cast<size_t>(index)];
  };

  for (int64_t index : ed_docs) {
    const EricaDocument& doc = document(index);
    // One named triple per document, uniformly; if truncation removed its head or
    // tail from the ED row, the next one in the same random order.
    std::vector<size_t> order = doc.ed_labels;
    rng.shuffle(order);
    std::optional<EdRowExample> ex;
    for (size_t l : order)
      if ((ex = make_ed_row(doc, l, corpus.relation_names, tokenizer, options.max_length))) break;
    if (!ex) continue;
    const int64_t row = static_cast<int64_t>(batch.rows.size());
    const int64_t base = static_cast<int64_t>(batch.entities.size());
    std::vector<int64_t> ids = ex->ids;
    std::vector<int64_t> labels = mask_row(ids, {0, ex->prefix_sep, static_cast<int64_t>(ids.size()) - 1}, ex->entities,
                                           tokenizer, options, rng);
    batch.rows.push_back({"ed", doc.index, std::move(ids), std::move(labels)});
    for (auto e : ex->entities) {
      e.row = row;
      batch.entities.push_back(std::move(e));
    }
    EricaEdItem item = ex->item;
    item.row = row;
    item.query += base;
    item.positive += base;
    for (auto& c : item.candidates) c += base;
    for (auto& c : item.excluded) c += base;
    batch.ed.push_back(std::move(item));
  }

  std::vector<RelationInstance> instances;
  std::vector<int64_t> instance_base;  // batch entity index of entity 0 of the instance's row
  std::vector<int64_t> instance_row;
  for (int64_t index : rd_docs) {
    const EricaDocument& doc = document(index);
    const int64_t row = static_cast<int64_t>(batch.rows.size());
    const int64_t base = static_cast<int64_t>(batch.entities.size());
    std::vector<int64_t> ids;
    ids.reserve(doc.aligned.ids.size() + 2);
    ids.push_back(sp.cls);
    ids.insert(ids.end(), doc.aligned.ids.begin(), doc.aligned.ids.end());
    ids.push_back(sp.sep);
    std::vector<EricaEntity> entities;
    for (size_t e = 0; e < doc.aligned.entities.size(); ++e) {
      EricaEntity entity{row, static_cast<int64_t>(e), {}};
      for (const auto& m : doc.aligned.entities[e]) entity.mentions.emplace_back(m.begin + 1, m.end + 1);
      entities.push_back(std::move(entity));
    }
    std::vector<int64_t> labels =
        mask_row(ids, {0, static_cast<int64_t>(ids.size()) - 1}, entities, tokenizer, options, rng);
    batch.rows.push_back({"rd", doc.index, std::move(ids), std::move(labels)});
    batch.entities.insert(batch.entities.end(), entities.begin(), entities.end());
    // The document index (not the row) identifies the document, so that a document
    // drawn twice into one batch still counts as one for the exclusion rule.
    for (auto& x : relation_instances(doc.aligned, doc.index, options.pairs, options.max_na_pairs, rng)) {
      instances.push_back(std::move(x));
      instance_base.push_back(base);
      instance_row.push_back(row);
    }
  }
  for (size_t i = 0; i < instances.size(); ++i) {
    const auto& x = instances[i];
    batch.rd_pairs.push_back({instance_row[i], instance_base[i] + x.head, instance_base[i] + x.tail,
                              x.na ? std::string("NA") : x.label, x.na, x.intra});
  }
  batch.rd_anchors = pair_relation_instances(instances, options.max_negatives, rng);
  return batch;
}

// ------------------------------------------------------------------ JSON

json erica_batch_to_json(const EricaBatch& batch) {
  size_t width = 0;
  for (const auto& r : batch.rows) width = std::max(width, r.ids.size());
  json rows = json::array(), input_ids = json::array(), attention = json::array(), types = json::array(),
       labels = json::array();
  for (const auto& r : batch.rows) {
    rows.push_back({{"kind", r.kind}, {"doc", r.doc}});
    std::vector<int64_t> ids(width, batch.pad_id), mask(width, 0), lab(width, data::kIgnoreLabel);
    std::copy(r.ids.begin(), r.ids.end(), ids.begin());
    std::fill(mask.begin(), mask.begin() + static_cast<std::ptrdiff_t>(r.ids.size()), 1);
    std::copy(r.labels.begin(), r.labels.end(), lab.begin());
    input_ids.push_back(ids);
    attention.push_back(mask);
    types.push_back(std::vector<int64_t>(width, 0));
    labels.push_back(lab);
  }
  json entities = json::array();
  for (const auto& e : batch.entities) {
    json mentions = json::array();
    for (const auto& [b, end] : e.mentions) mentions.push_back({b, end});
    entities.push_back({{"row", e.row}, {"doc_entity", e.doc_entity}, {"mentions", mentions}});
  }
  json ed = json::array();
  for (const auto& x : batch.ed)
    ed.push_back({{"row", x.row}, {"relation", x.relation}, {"query", x.query}, {"positive", x.positive},
                  {"candidates", x.candidates}, {"excluded", x.excluded}});
  json pairs = json::array(), anchors = json::array();
  for (const auto& p : batch.rd_pairs)
    pairs.push_back({{"row", p.row}, {"head", p.head}, {"tail", p.tail}, {"label", p.label}, {"na", p.na},
                     {"intra", p.intra}});
  for (const auto& a : batch.rd_anchors)
    anchors.push_back({{"anchor", a.anchor}, {"positive", a.positive}, {"negatives", a.negatives}});
  return {{"task", "erica"},          {"pad_id", batch.pad_id}, {"rows", rows},
          {"input_ids", input_ids},   {"attention_mask", attention},
          {"token_type_ids", types},  {"mlm_labels", labels},   {"entities", entities},
          {"ed", ed},                 {"rd", {{"pairs", pairs}, {"anchors", anchors}}}};
}

namespace {

const json& field(const json& obj, const std::string& key, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key)) fail("erica batch: {}: missing '{}'", where, key);
  return obj.at(key);
}

int64_t integer(const json& v, const std::string& where) {
  if (!v.is_number_integer()) fail("erica batch: {}: expected an integer, got {}", where, v.dump());
  return v.get<int64_t>();
}

int64_t index_in(const json& v, int64_t limit, const std::string& where) {
  const int64_t i = integer(v, where);
  if (i < 0 || i >= limit) fail("erica batch: {}: {} is out of range [0, {})", where, i, limit);
  return i;
}

std::vector<int64_t> indices_in(const json& v, int64_t limit, const std::string& where) {
  if (!v.is_array()) fail("erica batch: {}: expected a list", where);
  std::vector<int64_t> out;
  for (size_t i = 0; i < v.size(); ++i) out.push_back(index_in(v[i], limit, where + "[" + std::to_string(i) + "]"));
  return out;
}

const json& list(const json& v, const std::string& where) {
  if (!v.is_array()) fail("erica batch: {}: expected a list", where);
  return v;
}

}  // namespace

EricaBatch erica_batch_from_json(const json& j) {
  EricaBatch batch;
  if (!j.is_object()) fail("erica batch: expected a JSON object");
  if (j.value("task", std::string()) != "erica") fail("erica batch: 'task' must be \"erica\"");
  batch.pad_id = integer(field(j, "pad_id", "batch"), "pad_id");
  const json& rows = list(field(j, "rows", "batch"), "rows");
  const json& ids = list(field(j, "input_ids", "batch"), "input_ids");
  const json& mask = list(field(j, "attention_mask", "batch"), "attention_mask");
  const json& labels = list(field(j, "mlm_labels", "batch"), "mlm_labels");
  if (rows.empty()) fail("erica batch: no rows");
  if (ids.size() != rows.size() || mask.size() != rows.size() || labels.size() != rows.size())
    fail("erica batch: rows, input_ids, attention_mask and mlm_labels must have the same length");
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::string where = "rows[" + std::to_string(r) + "]";
    EricaRow row;
    row.kind = field(rows[r], "kind", where).is_string() ? rows[r].at("kind").get<std::string>() : "";
    if (row.kind != "ed" && row.kind != "rd") fail("erica batch: {}: kind must be \"ed\" or \"rd\"", where);
    row.doc = integer(field(rows[r], "doc", where), where + ".doc");
    const json& id_row = list(ids[r], "input_ids row");
    const json& mask_row = list(mask[r], "attention_mask row");
    const json& label_row = list(labels[r], "mlm_labels row");
    if (id_row.size() != ids[0].size() || mask_row.size() != id_row.size() || label_row.size() != id_row.size())
      fail("erica batch: row {}: input_ids, attention_mask and mlm_labels rows must all have {} entries", r,
           ids[0].size());
    // The attention mask is a prefix of ones: the row's tokens, then padding.
    size_t length = 0;
    while (length < mask_row.size() && integer(mask_row[length], "attention_mask") == 1) ++length;
    for (size_t t = length; t < mask_row.size(); ++t)
      if (integer(mask_row[t], "attention_mask") != 0)
        fail("erica batch: row {}: attention_mask must be ones then zeros", r);
    if (length == 0) fail("erica batch: row {}: empty", r);
    for (size_t t = 0; t < length; ++t) {
      row.ids.push_back(integer(id_row[t], "input_ids"));
      row.labels.push_back(integer(label_row[t], "mlm_labels"));
    }
    for (size_t t = length; t < label_row.size(); ++t)
      if (integer(label_row[t], "mlm_labels") != data::kIgnoreLabel)
        fail("erica batch: row {}: a padding position has an MLM label", r);
    batch.rows.push_back(std::move(row));
  }
  const int64_t R = static_cast<int64_t>(batch.rows.size());
  const json& entities = list(field(j, "entities", "batch"), "entities");
  for (size_t e = 0; e < entities.size(); ++e) {
    const std::string where = "entities[" + std::to_string(e) + "]";
    EricaEntity entity;
    entity.row = index_in(field(entities[e], "row", where), R, where + ".row");
    entity.doc_entity = integer(field(entities[e], "doc_entity", where), where + ".doc_entity");
    const int64_t length = static_cast<int64_t>(batch.rows[static_cast<size_t>(entity.row)].ids.size());
    for (const json& m : list(field(entities[e], "mentions", where), where + ".mentions")) {
      if (!m.is_array() || m.size() != 2) fail("erica batch: {}: a mention must be [begin, end]", where);
      const int64_t b = integer(m[0], where), end = integer(m[1], where);
      if (b < 0 || b >= end || end > length)
        fail("erica batch: {}: mention [{}, {}) outside its row of {} tokens", where, b, end, length);
      entity.mentions.emplace_back(b, end);
    }
    if (entity.mentions.empty()) fail("erica batch: {}: no mention", where);
    batch.entities.push_back(std::move(entity));
  }
  const int64_t E = static_cast<int64_t>(batch.entities.size());
  const json& ed = list(field(j, "ed", "batch"), "ed");
  for (size_t i = 0; i < ed.size(); ++i) {
    const std::string where = "ed[" + std::to_string(i) + "]";
    EricaEdItem item;
    item.row = index_in(field(ed[i], "row", where), R, where + ".row");
    item.relation = ed[i].value("relation", std::string());
    item.query = index_in(field(ed[i], "query", where), E, where + ".query");
    item.positive = index_in(field(ed[i], "positive", where), E, where + ".positive");
    item.candidates = indices_in(field(ed[i], "candidates", where), E, where + ".candidates");
    if (ed[i].contains("excluded")) item.excluded = indices_in(ed[i].at("excluded"), E, where + ".excluded");
    for (int64_t e : item.candidates)
      if (batch.entities[static_cast<size_t>(e)].row != item.row)
        fail("erica batch: {}: candidate {} belongs to another row", where, e);
    if (batch.entities[static_cast<size_t>(item.query)].row != item.row)
      fail("erica batch: {}: the query belongs to another row", where);
    batch.ed.push_back(std::move(item));
  }
  const json& rd = field(j, "rd", "batch");
  const json& pairs = list(field(rd, "pairs", "rd"), "rd.pairs");
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string where = "rd.pairs[" + std::to_string(i) + "]";
    EricaRdPair p;
    p.row = index_in(field(pairs[i], "row", where), R, where + ".row");
    p.head = index_in(field(pairs[i], "head", where), E, where + ".head");
    p.tail = index_in(field(pairs[i], "tail", where), E, where + ".tail");
    p.label = pairs[i].value("label", std::string());
    p.na = pairs[i].value("na", false);
    p.intra = pairs[i].value("intra", false);
    batch.rd_pairs.push_back(std::move(p));
  }
  const int64_t P = static_cast<int64_t>(batch.rd_pairs.size());
  for (const json& a : list(field(rd, "anchors", "rd"), "rd.anchors")) {
    RelationAnchor anchor;
    anchor.anchor = index_in(field(a, "anchor", "rd.anchors"), P, "rd.anchors.anchor");
    anchor.positive = index_in(field(a, "positive", "rd.anchors"), P, "rd.anchors.positive");
    anchor.negatives = indices_in(field(a, "negatives", "rd.anchors"), P, "rd.anchors.negatives");
    batch.rd_anchors.push_back(std::move(anchor));
  }
  return batch;
}

}  // namespace cotrain::tasks
