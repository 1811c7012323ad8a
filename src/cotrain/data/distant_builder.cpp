#include "cotrain/data/distant_builder.h"

#include <algorithm>
#include <fstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/data/distant_text.h"

namespace cotrain::data {
namespace {

using json = nlohmann::json;

// splitmix64: a small portable generator, so that a seed gives the same NA sample
// with every standard library.
struct SplitMix {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }  // bias negligible for n << 2^64
};

// Why a JSONL record is unusable ("" if fine); fills `out`.
std::string parse_source(const json& j, SourceDocument& out) {
  if (!j.is_object()) return fmt::format("expected a JSON object, got {}", j.type_name());
  if (auto it = j.find("title"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return "\"title\" must be a string";
    out.title = it->get<std::string>();
  }
  const bool has_text = j.contains("text"), has_sents = j.contains("sents");
  if (has_text == has_sents) return "expected exactly one of \"text\" and \"sents\"";
  if (has_text) {
    if (!j["text"].is_string()) return "\"text\" must be a string";
    out.sents = split_sentences(j["text"].get<std::string>());
  } else {
    const json& sents = j["sents"];
    if (!sents.is_array()) return "\"sents\" must be a list of sentences";
    for (size_t s = 0; s < sents.size(); ++s) {
      if (!sents[s].is_array()) return fmt::format("sents[{}] must be a list of words", s);
      std::vector<std::string> words;
      for (size_t w = 0; w < sents[s].size(); ++w) {
        const json& word = sents[s][w];
        if (!word.is_string()) return fmt::format("sents[{}][{}] must be a string", s, w);
        const std::string text = word.get<std::string>();
        if (text.empty() || text.find_first_of(" \t\n\r") != std::string::npos)
          return fmt::format("sents[{}][{}] must be one non-empty word without spaces", s, w);
        words.push_back(text);
      }
      out.sents.push_back(std::move(words));
    }
  }
  if (auto it = j.find("entities"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return "\"entities\" must be a list of entity ids";
    for (const json& e : *it) {
      if (!e.is_string()) return "\"entities\" must be a list of entity ids";
      out.candidates.push_back(e.get<std::string>());
    }
  }
  return "";
}

struct Linked {
  int32_t entity;
  Mention mention;
};

// Longest-match linking, sentence by sentence (see the header).
std::vector<Linked> link(const SourceDocument& doc, const KnowledgeBase& kb, Ambiguity ambiguity,
                         DistantStats& stats) {
  std::unordered_map<int32_t, size_t> rank;  // candidate entity -> position in the document's list
  for (const std::string& id : doc.candidates) {
    const int32_t e = kb.find_entity(id);
    if (e >= 0) rank.emplace(e, rank.size());
  }
  const bool restricted = !doc.candidates.empty();
  // Only aliases of the candidates can match in a restricted document: no need to
  // look up longer word sequences than their longest alias.
  size_t max_words = kb.max_alias_words();
  if (restricted) {
    max_words = 0;
    for (const auto& [e, r] : rank) max_words = std::max(max_words, kb.max_alias_words(e));
  }
  std::vector<Linked> out;
  std::vector<int32_t> hits;
  for (size_t s = 0; s < doc.sents.size(); ++s) {
    const auto& original = doc.sents[s];
    std::vector<std::string> folded;
    const std::vector<std::string>* words = &original;
    if (kb.ignore_case()) {
      for (const std::string& w : original) folded.push_back(ascii_lower(w));
      words = &folded;
    }
    const size_t n = words->size();
    size_t i = 0;
    while (i < n) {
      size_t taken = 0;
      for (size_t len = std::min(max_words, n - i); len >= 1 && taken == 0; --len) {
        const auto* found = kb.lookup(KnowledgeBase::key_of(*words, i, i + len));
        if (!found) continue;
        hits.clear();
        for (int32_t e : *found)
          if (!restricted || rank.count(e)) hits.push_back(e);
        if (hits.empty()) continue;
        taken = len;
        if (hits.size() > 1 && ambiguity == Ambiguity::skip) {
          ++stats.ambiguous;
          break;
        }
        int32_t chosen = hits.front();
        if (restricted)
          for (int32_t e : hits)
            if (rank[e] < rank[chosen]) chosen = e;
        Mention m;
        for (size_t k = i; k < i + len; ++k) m.name += (k > i ? " " : "") + original[k];
        m.sent_id = static_cast<int64_t>(s);
        m.begin = static_cast<int64_t>(i);
        m.end = static_cast<int64_t>(i + len);
        m.type = kb.entity_type(chosen);
        m.id = kb.entity_id(chosen);
        out.push_back({chosen, std::move(m)});
        ++stats.mentions;
      }
      i += taken ? taken : 1;
    }
  }
  return out;
}

}  // namespace

std::vector<SourceDocument> read_source_documents(const std::string& path, BadRecordLog& log) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::vector<SourceDocument> out;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    SourceDocument doc;
    std::string why;
    try {
      why = parse_source(json::parse(line), doc);
    } catch (const json::exception& e) {
      why = fmt::format("not valid JSON: {}", e.what());
    }
    if (why.empty() && doc.sents.empty()) why = "empty document (no words)";
    if (!why.empty()) {
      log.report(fmt::format("{}: line {}: {}", path, line_no, why));
      continue;
    }
    if (doc.title.empty()) doc.title = fmt::format("{}:{}", path.substr(path.find_last_of('/') + 1), line_no);
    out.push_back(std::move(doc));
  }
  return out;
}

int64_t collect_entity_pairs(const std::vector<Document>& docs, const KnowledgeBase& kb, PairSet& out) {
  int64_t unresolved = 0;
  for (const Document& doc : docs) {
    std::vector<std::vector<int32_t>> ids(doc.entities.size());
    for (size_t e = 0; e < doc.entities.size(); ++e) {
      for (const Mention& m : doc.entities[e].mentions) {
        const int32_t id = m.id.empty() ? -1 : kb.find_entity(m.id);
        if (id >= 0) ids[e].push_back(id);
      }
      if (ids[e].empty()) {
        for (const Mention& m : doc.entities[e].mentions) {
          const auto words = split_words(kb.ignore_case() ? ascii_lower(m.name) : m.name);
          if (const auto* found = kb.lookup(KnowledgeBase::key_of(words, 0, words.size())))
            ids[e].insert(ids[e].end(), found->begin(), found->end());
        }
      }
      std::sort(ids[e].begin(), ids[e].end());
      ids[e].erase(std::unique(ids[e].begin(), ids[e].end()), ids[e].end());
      if (ids[e].empty()) ++unresolved;
    }
    for (size_t a = 0; a < ids.size(); ++a)
      for (size_t b = a + 1; b < ids.size(); ++b)
        for (int32_t x : ids[a])
          for (int32_t y : ids[b])
            if (x != y) out.add(x, y);
  }
  return unresolved;
}

std::vector<Document> build_distant(const std::vector<SourceDocument>& docs, const KnowledgeBase& kb,
                                    const DistantOptions& options, const PairSet* leakage, DistantStats& stats) {
  std::vector<Document> out;
  for (size_t index = 0; index < docs.size(); ++index) {
    const SourceDocument& src = docs[index];
    ++stats.documents;
    Document doc;
    doc.title = src.title;
    doc.sents = src.sents;
    // Entities in the order of their first mention.
    std::unordered_map<int32_t, int64_t> slot;
    std::vector<int32_t> entity_of_slot;
    for (Linked& l : link(src, kb, options.ambiguity, stats)) {
      auto [it, inserted] = slot.emplace(l.entity, static_cast<int64_t>(doc.entities.size()));
      if (inserted) {
        doc.entities.emplace_back();
        entity_of_slot.push_back(l.entity);
      }
      doc.entities[it->second].mentions.push_back(std::move(l.mention));
    }
    const int64_t n = static_cast<int64_t>(doc.entities.size());
    std::vector<std::pair<int64_t, int64_t>> na;
    for (int64_t h = 0; h < n; ++h)
      for (int64_t t = 0; t < n; ++t) {
        if (h == t) continue;
        const auto* rels = kb.relations(entity_of_slot[h], entity_of_slot[t]);
        if (leakage && leakage->contains(entity_of_slot[h], entity_of_slot[t])) {
          if (rels) stats.leaked_labels += static_cast<int64_t>(rels->size());
          else ++stats.leaked_na_pairs;
          continue;
        }
        if (!rels) {
          na.emplace_back(h, t);
          continue;
        }
        for (const std::string& r : *rels) doc.labels.push_back({h, t, r, {}});
      }
    const int64_t words = static_cast<int64_t>(doc.num_words());
    const int64_t labels = static_cast<int64_t>(doc.labels.size());
    if (words < options.min_words || words > options.max_words) {
      ++stats.filtered_words;
      continue;
    }
    if (n < options.min_entities || n > options.max_entities) {
      ++stats.filtered_entities;
      continue;
    }
    if (labels < options.min_labels || labels > options.max_labels) {
      ++stats.filtered_labels;
      continue;
    }
    // Partial Fisher-Yates: the first k of `na` become a uniform sample.
    SplitMix rng{options.seed * 0x2545f4914f6cdd1dULL + index};
    const size_t k = std::min(na.size(), static_cast<size_t>(std::max<int64_t>(options.max_na, 0)));
    for (size_t i = 0; i < k; ++i) std::swap(na[i], na[i + rng.below(na.size() - i)]);
    na.resize(k);
    std::sort(na.begin(), na.end());
    doc.na_triples = std::move(na);
    ++stats.kept;
    stats.kept_entities += n;
    for (const Entity& e : doc.entities) stats.kept_mentions += static_cast<int64_t>(e.mentions.size());
    stats.kept_labels += labels;
    stats.kept_na += static_cast<int64_t>(doc.na_triples.size());
    stats.kept_words += words;
    out.push_back(std::move(doc));
  }
  return out;
}

std::string DistantStats::to_json() const {
  json j = {{"documents", documents},
            {"mentions_linked", mentions},
            {"ambiguous_matches", ambiguous},
            {"leaked_labels_removed", leaked_labels},
            {"leaked_na_pairs_removed", leaked_na_pairs},
            {"filtered_by_words", filtered_words},
            {"filtered_by_entities", filtered_entities},
            {"filtered_by_labels", filtered_labels},
            {"kept_documents", kept},
            {"kept_words", kept_words},
            {"kept_entities", kept_entities},
            {"kept_mentions", kept_mentions},
            {"kept_labels", kept_labels},
            {"kept_na_triples", kept_na}};
  return j.dump();
}

}  // namespace cotrain::data
