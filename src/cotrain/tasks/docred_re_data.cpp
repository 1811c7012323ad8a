#include "cotrain/tasks/docred_re_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"

namespace cotrain::tasks {

int64_t DocredRelations::class_of(const std::string& id) const {
  auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return it != ids.end() && *it == id ? static_cast<int64_t>(it - ids.begin()) + 1 : -1;
}

DocredRelations relations_of_labels(const std::vector<data::Document>& docs) {
  std::set<std::string> ids;
  for (const auto& d : docs)
    for (const auto& l : d.labels) ids.insert(l.r);
  return DocredRelations{{ids.begin(), ids.end()}};
}

DocredRelations relations_of_names(const data::RelationNames& names) {
  DocredRelations r;
  for (const auto& [id, name] : names) r.ids.push_back(id);  // std::map: sorted
  return r;
}

int64_t distance_index(int64_t word_delta) {
  const int64_t d = word_delta < 0 ? -word_delta : word_delta;
  int64_t bin = 0;
  if (d >= 1) bin = 1;
  for (int64_t edge = 2; edge <= 256 && d >= edge; edge *= 2) ++bin;  // 2, 4, ..., 256 -> 2..9
  return word_delta < 0 ? 10 - bin : 10 + bin;
}

std::string DocredReCorpus::summary() const {
  return fmt::format("{} documents, {} relation classes + NA, {} truncated, {} labels dropped past the length limit",
                     docs.size(), relations.ids.size(), truncated_docs, dropped_labels);
}

DocredReCorpus prepare_docred_corpus(std::vector<data::Document> docs, const text::Tokenizer& tokenizer,
                                     int64_t max_length, DocredRelations relations) {
  if (max_length < 3) fail("docred: data.max_length must be at least 3, got {}", max_length);
  DocredReCorpus corpus;
  corpus.relations = std::move(relations);
  corpus.source = std::move(docs);
  corpus.docs.reserve(corpus.source.size());
  for (size_t i = 0; i < corpus.source.size(); ++i) {
    const data::Document& doc = corpus.source[i];
    DocredReDocument d;
    d.index = static_cast<int64_t>(i);
    d.aligned = data::align_document(doc, tokenizer, max_length - 2);
    std::vector<int64_t> sentence_word(doc.num_sents() + 1, 0);
    for (size_t s = 0; s < doc.num_sents(); ++s)
      sentence_word[s + 1] = sentence_word[s] + static_cast<int64_t>(doc.sent_length(s));
    for (int64_t original : d.aligned.kept_entities) {
      const data::Mention& m = doc.entities.at(static_cast<size_t>(original)).mentions.front();
      d.first_word.push_back(sentence_word.at(static_cast<size_t>(m.sent_id)) + m.begin);
    }
    for (const auto& l : d.aligned.labels) {
      if (l.h == l.t) continue;
      const int64_t c = corpus.relations.class_of(l.r);
      if (c < 0) continue;
      auto& classes = d.classes[{l.h, l.t}];
      if (std::find(classes.begin(), classes.end(), c) == classes.end()) classes.push_back(c);
    }
    for (auto& [pair, classes] : d.classes) {
      std::sort(classes.begin(), classes.end());
      d.positives.push_back(pair);
    }
    corpus.dropped_labels += d.aligned.dropped_labels;
    corpus.truncated_docs += d.aligned.truncated ? 1 : 0;
    corpus.docs.push_back(std::move(d));
  }
  return corpus;
}

DocredReCorpus read_docred_corpus(const std::vector<std::string>& files, const text::Tokenizer& tokenizer,
                                  int64_t max_length, DocredRelations relations, data::OnBadRecord on_bad_record) {
  std::vector<data::Document> all;
  for (const auto& file : files) {
    data::DocredReadOptions options;
    options.on_bad_record = on_bad_record;
    data::DocredReadReport report;
    auto docs = data::read_docred(file, options, &report);
    log::info("{}: {}", file, report.summary());
    for (const auto& reason : report.first_reasons) log::warn("skipped: {}", reason);
    all.insert(all.end(), std::make_move_iterator(docs.begin()), std::make_move_iterator(docs.end()));
  }
  return prepare_docred_corpus(std::move(all), tokenizer, max_length, std::move(relations));
}

std::vector<int64_t> docred_train_subset(int64_t n, double fraction, uint64_t seed) {
  if (!(fraction > 0 && fraction <= 1)) fail("docred.train_fraction must be in (0, 1], got {}", fraction);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(Rng::derive(seed, 0x646f63726564f0));  // "docred" + fraction
  rng.shuffle(order);
  const auto keep = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(fraction * static_cast<double>(n) - 1e-9)),
                                        std::min<int64_t>(n, 1), n);
  order.resize(static_cast<size_t>(keep));
  return order;
}

namespace {

// Adds the row of document `doc_index` and its entities; returns the batch index of
// the row's first entity.
int64_t add_row(DocredBatch& batch, const DocredReCorpus& corpus, int64_t doc_index, const text::Tokenizer& tokenizer) {
  const DocredReDocument& d = corpus.docs.at(static_cast<size_t>(doc_index));
  const auto& sp = tokenizer.specials();
  std::vector<int64_t> ids;
  ids.reserve(d.aligned.ids.size() + 2);
  ids.push_back(sp.cls);
  ids.insert(ids.end(), d.aligned.ids.begin(), d.aligned.ids.end());
  ids.push_back(sp.sep);
  const int64_t row = static_cast<int64_t>(batch.rows.size());
  batch.rows.push_back(std::move(ids));
  batch.docs.push_back(doc_index);
  const int64_t first = static_cast<int64_t>(batch.entities.size());
  for (size_t e = 0; e < d.aligned.entities.size(); ++e) {
    EricaEntity entity;
    entity.row = row;
    entity.doc_entity = static_cast<int64_t>(e);
    for (const auto& m : d.aligned.entities[e]) entity.mentions.emplace_back(m.begin + 1, m.end + 1);  // after [CLS]
    batch.entities.push_back(std::move(entity));
    batch.first_word.push_back(d.first_word[e]);
  }
  return first;
}

DocredPair make_pair(const DocredReDocument& d, int64_t row, int64_t first, int64_t h, int64_t t,
                     std::vector<int64_t> classes) {
  DocredPair p;
  p.row = row;
  p.head = first + h;
  p.tail = first + t;
  const int64_t delta = d.first_word[static_cast<size_t>(h)] - d.first_word[static_cast<size_t>(t)];
  p.dist_ht = distance_index(delta);
  p.dist_th = distance_index(-delta);
  p.classes = std::move(classes);
  p.doc_entity_h = d.aligned.kept_entities[static_cast<size_t>(h)];
  p.doc_entity_t = d.aligned.kept_entities[static_cast<size_t>(t)];
  return p;
}

}  // namespace

DocredBatch build_docred_train_batch(const DocredReCorpus& corpus, const std::vector<int64_t>& docs,
                                     const text::Tokenizer& tokenizer, double na_ratio, Rng& rng) {
  DocredBatch batch;
  batch.num_classes = corpus.relations.num_classes();
  batch.pad_id = tokenizer.specials().pad;
  for (int64_t doc_index : docs) {
    const DocredReDocument& d = corpus.docs.at(static_cast<size_t>(doc_index));
    const int64_t row = static_cast<int64_t>(batch.rows.size());
    const int64_t first = add_row(batch, corpus, doc_index, tokenizer);
    for (const auto& pair : d.positives)
      batch.pairs.push_back(make_pair(d, row, first, pair.first, pair.second, d.classes.at(pair)));
    std::vector<std::pair<int64_t, int64_t>> na;
    const auto n = static_cast<int64_t>(d.aligned.entities.size());
    for (int64_t h = 0; h < n; ++h)
      for (int64_t t = 0; t < n; ++t)
        if (h != t && !d.classes.count({h, t})) na.emplace_back(h, t);
    const auto want = static_cast<int64_t>(std::llround(na_ratio * static_cast<double>(d.positives.size())));
    const auto take = std::min<int64_t>(want, static_cast<int64_t>(na.size()));
    // Partial Fisher-Yates: the first `take` places hold a uniform sample.
    for (int64_t i = 0; i < take; ++i)
      std::swap(na[static_cast<size_t>(i)], na[static_cast<size_t>(i + rng.below(static_cast<int64_t>(na.size()) - i))]);
    for (int64_t i = 0; i < take; ++i)
      batch.pairs.push_back(make_pair(d, row, first, na[static_cast<size_t>(i)].first, na[static_cast<size_t>(i)].second, {0}));
  }
  return batch;
}

DocredBatch build_docred_eval_batch(const DocredReCorpus& corpus, const std::vector<int64_t>& docs,
                                    const text::Tokenizer& tokenizer) {
  DocredBatch batch;
  batch.num_classes = corpus.relations.num_classes();
  batch.pad_id = tokenizer.specials().pad;
  for (int64_t doc_index : docs) {
    const DocredReDocument& d = corpus.docs.at(static_cast<size_t>(doc_index));
    const int64_t row = static_cast<int64_t>(batch.rows.size());
    const int64_t first = add_row(batch, corpus, doc_index, tokenizer);
    const auto n = static_cast<int64_t>(d.aligned.entities.size());
    for (int64_t h = 0; h < n; ++h)
      for (int64_t t = 0; t < n; ++t) {
        if (h == t) continue;
        auto it = d.classes.find({h, t});
        batch.pairs.push_back(make_pair(d, row, first, h, t, it == d.classes.end() ? std::vector<int64_t>{0} : it->second));
      }
  }
  return batch;
}

// ------------------------------------------------------------------ JSON

nlohmann::json docred_batch_to_json(const DocredBatch& batch) {
  size_t width = 0;
  for (const auto& r : batch.rows) width = std::max(width, r.size());
  nlohmann::json ids = nlohmann::json::array(), mask = nlohmann::json::array();
  for (const auto& r : batch.rows) {
    std::vector<int64_t> padded(width, batch.pad_id), m(width, 0);
    std::copy(r.begin(), r.end(), padded.begin());
    std::fill(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(r.size()), 1);
    ids.push_back(padded);
    mask.push_back(m);
  }
  nlohmann::json entities = nlohmann::json::array();
  for (const auto& e : batch.entities) {
    nlohmann::json spans = nlohmann::json::array();
    for (const auto& [b, end] : e.mentions) spans.push_back({b, end});
    entities.push_back({{"row", e.row}, {"doc_entity", e.doc_entity}, {"mentions", spans}});
  }
  for (size_t e = 0; e < batch.first_word.size() && e < entities.size(); ++e) entities[e]["first_word"] = batch.first_word[e];
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& p : batch.pairs)
    pairs.push_back({{"row", p.row}, {"head", p.head}, {"tail", p.tail}, {"dist_ht", p.dist_ht}, {"dist_th", p.dist_th},
                     {"classes", p.classes}, {"h_idx", p.doc_entity_h}, {"t_idx", p.doc_entity_t}});
  return {{"task", "docred"}, {"input_ids", ids}, {"attention_mask", mask}, {"docs", batch.docs},
          {"entities", entities}, {"pairs", pairs}, {"num_classes", batch.num_classes}, {"pad_id", batch.pad_id}};
}

namespace {

int64_t integer(const nlohmann::json& j, const std::string& what) {
  if (!j.is_number_integer()) fail("docred batch: {} must be an integer", what);
  return j.get<int64_t>();
}

int64_t index_in(const nlohmann::json& j, const std::string& what, int64_t lo, int64_t hi) {
  const int64_t v = integer(j, what);
  if (v < lo || v >= hi) fail("docred batch: {} = {} outside [{}, {})", what, v, lo, hi);
  return v;
}

const nlohmann::json& array_at(const nlohmann::json& j, const std::string& key) {
  if (!j.is_object() || !j.contains(key) || !j.at(key).is_array()) fail("docred batch: '{}' must be a list", key);
  return j.at(key);
}

}  // namespace

DocredBatch docred_batch_from_json(const nlohmann::json& j) {
  DocredBatch b;
  const auto& ids = array_at(j, "input_ids");
  const auto& mask = array_at(j, "attention_mask");
  if (ids.size() != mask.size()) fail("docred batch: input_ids and attention_mask have different row counts");
  if (ids.empty()) fail("docred batch: no rows");
  b.pad_id = j.contains("pad_id") ? integer(j.at("pad_id"), "pad_id") : 0;
  b.num_classes = integer(j.value("num_classes", nlohmann::json()), "num_classes");
  if (b.num_classes < 2) fail("docred batch: num_classes must be at least 2 (NA and one relation)");
  std::vector<int64_t> lengths;
  for (size_t r = 0; r < ids.size(); ++r) {
    const std::string where = fmt::format("input_ids[{}]", r);
    if (!ids[r].is_array() || !mask[r].is_array() || ids[r].size() != mask[r].size() ||
        ids[r].size() != ids[0].size())
      fail("docred batch: row {}: input_ids and attention_mask must be lists of one width", r);
    std::vector<int64_t> row;
    bool ended = false;
    for (size_t t = 0; t < ids[r].size(); ++t) {
      const int64_t m = index_in(mask[r][t], fmt::format("attention_mask[{}][{}]", r, t), 0, 2);
      if (m == 1 && ended) fail("docred batch: row {}: attention_mask has a 1 after a 0", r);
      if (m == 0) {
        ended = true;
        continue;
      }
      row.push_back(integer(ids[r][t], fmt::format("{}[{}]", where, t)));
    }
    if (row.empty()) fail("docred batch: row {} is empty", r);
    lengths.push_back(static_cast<int64_t>(row.size()));
    b.rows.push_back(std::move(row));
  }
  const auto rows = static_cast<int64_t>(b.rows.size());
  if (j.contains("docs") && j.at("docs").is_array() && j.at("docs").size() == b.rows.size())
    for (const auto& d : j.at("docs")) b.docs.push_back(integer(d, "docs[]"));
  else
    b.docs.assign(b.rows.size(), 0);
  const auto& entities = array_at(j, "entities");
  for (size_t e = 0; e < entities.size(); ++e) {
    const std::string where = fmt::format("entities[{}]", e);
    const auto& x = entities[e];
    if (!x.is_object() || !x.contains("row") || !x.contains("mentions") || !x.at("mentions").is_array())
      fail("docred batch: {} must have row and mentions", where);
    EricaEntity entity;
    entity.row = index_in(x.at("row"), where + ".row", 0, rows);
    entity.doc_entity = x.contains("doc_entity") ? integer(x.at("doc_entity"), where + ".doc_entity") : 0;
    b.first_word.push_back(x.contains("first_word") ? integer(x.at("first_word"), where + ".first_word") : 0);
    if (x.at("mentions").empty()) fail("docred batch: {} has no mention", where);
    for (const auto& span : x.at("mentions")) {
      if (!span.is_array() || span.size() != 2) fail("docred batch: {}: a mention must be [begin, end]", where);
      const int64_t len = lengths[static_cast<size_t>(entity.row)];
      const int64_t begin = index_in(span[0], where + " mention begin", 0, len);
      const int64_t end = index_in(span[1], where + " mention end", begin + 1, len + 1);
      entity.mentions.emplace_back(begin, end);
    }
    b.entities.push_back(std::move(entity));
  }
  const auto n_entities = static_cast<int64_t>(b.entities.size());
  const auto& pairs = array_at(j, "pairs");
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string where = fmt::format("pairs[{}]", i);
    const auto& x = pairs[i];
    for (const char* key : {"row", "head", "tail", "dist_ht", "dist_th", "classes"})
      if (!x.is_object() || !x.contains(key)) fail("docred batch: {} lacks '{}'", where, key);
    DocredPair p;
    p.row = index_in(x.at("row"), where + ".row", 0, rows);
    p.head = index_in(x.at("head"), where + ".head", 0, n_entities);
    p.tail = index_in(x.at("tail"), where + ".tail", 0, n_entities);
    if (b.entities[static_cast<size_t>(p.head)].row != p.row || b.entities[static_cast<size_t>(p.tail)].row != p.row)
      fail("docred batch: {}: head and tail must be entities of row {}", where, p.row);
    p.dist_ht = index_in(x.at("dist_ht"), where + ".dist_ht", 0, kDistanceBuckets);
    p.dist_th = index_in(x.at("dist_th"), where + ".dist_th", 0, kDistanceBuckets);
    if (!x.at("classes").is_array() || x.at("classes").empty()) fail("docred batch: {}.classes must be a non-empty list", where);
    for (const auto& c : x.at("classes")) p.classes.push_back(index_in(c, where + ".classes[]", 0, b.num_classes));
    p.doc_entity_h = x.contains("h_idx") ? integer(x.at("h_idx"), where + ".h_idx") : 0;
    p.doc_entity_t = x.contains("t_idx") ? integer(x.at("t_idx"), where + ".t_idx") : 0;
    b.pairs.push_back(std::move(p));
  }
  return b;
}

}  // namespace cotrain::tasks
