#include "cotrain/data/alignment.h"

#include <algorithm>

#include "cotrain/core/error.h"

namespace cotrain::data {

AlignedDocument align_document(const Document& doc, const text::Tokenizer& tokenizer, int64_t max_length) {
  AlignedDocument out;
  // word_start[s][w] = first sub-word position of word w of sentence s; one extra
  // entry per sentence marks its end, so a span [b, e) of words is
  // [word_start[s][b], word_start[s][e]) of sub-words.
  std::vector<std::vector<int64_t>> word_start(doc.num_sents());
  if (!doc.sents.empty()) {
    std::vector<std::string> words;
    for (const auto& sentence : doc.sents) words.insert(words.end(), sentence.begin(), sentence.end());
    const auto pieces = tokenizer.encode_words(words);
    if (pieces.size() != words.size())
      fail("tokenizer returned {} words for {} (document '{}')", pieces.size(), words.size(), doc.title);
    size_t w = 0;
    for (size_t s = 0; s < doc.sents.size(); ++s) {
      out.sentence_starts.push_back(static_cast<int64_t>(out.ids.size()));
      for (size_t k = 0; k < doc.sents[s].size(); ++k, ++w) {
        word_start[s].push_back(static_cast<int64_t>(out.ids.size()));
        out.ids.insert(out.ids.end(), pieces[w].begin(), pieces[w].end());
      }
      word_start[s].push_back(static_cast<int64_t>(out.ids.size()));
    }
  } else {
    const int64_t unk = tokenizer.specials().unk;
    for (size_t s = 0; s < doc.tokenized_sents.size(); ++s) {
      out.sentence_starts.push_back(static_cast<int64_t>(out.ids.size()));
      for (const auto& word : doc.tokenized_sents[s]) {
        word_start[s].push_back(static_cast<int64_t>(out.ids.size()));
        for (const std::string& piece : word) {
          int64_t id = tokenizer.token_to_id(piece);
          if (id < 0) {
            id = unk;
            ++out.unknown_subwords;
          }
          out.ids.push_back(id);
        }
      }
      word_start[s].push_back(static_cast<int64_t>(out.ids.size()));
    }
  }
  if (max_length >= 0 && static_cast<int64_t>(out.ids.size()) > max_length) {
    out.ids.resize(static_cast<size_t>(max_length));
    out.truncated = true;
  }
  const int64_t limit = static_cast<int64_t>(out.ids.size());

  out.entity_map.assign(doc.entities.size(), -1);
  for (size_t e = 0; e < doc.entities.size(); ++e) {
    std::vector<AlignedMention> kept;
    for (const Mention& m : doc.entities[e].mentions) {
      const auto& starts = word_start.at(static_cast<size_t>(m.sent_id));
      AlignedMention a{starts.at(static_cast<size_t>(m.begin)), starts.at(static_cast<size_t>(m.end)), m.sent_id};
      if (a.end > limit || a.begin >= a.end) {  // past the limit, or no sub-word at all
        ++out.dropped_mentions;
        continue;
      }
      kept.push_back(a);
    }
    if (kept.empty()) continue;
    out.entity_map[e] = static_cast<int64_t>(out.entities.size());
    out.kept_entities.push_back(static_cast<int64_t>(e));
    out.entities.push_back(std::move(kept));
  }
  auto mapped = [&](int64_t e) { return e >= 0 && e < static_cast<int64_t>(out.entity_map.size()) ? out.entity_map[e] : -1; };
  for (const Label& l : doc.labels) {
    const int64_t h = mapped(l.h), t = mapped(l.t);
    if (h < 0 || t < 0) {
      ++out.dropped_labels;
      continue;
    }
    Label r = l;
    r.h = h;
    r.t = t;
    out.labels.push_back(std::move(r));
  }
  for (auto [h0, t0] : doc.na_triples) {
    const int64_t h = mapped(h0), t = mapped(t0);
    if (h < 0 || t < 0) {
      ++out.dropped_na_triples;
      continue;
    }
    out.na_triples.emplace_back(h, t);
  }
  return out;
}

bool share_a_sentence(const AlignedDocument& doc, int64_t h, int64_t t) {
  for (const AlignedMention& a : doc.entities.at(h))
    for (const AlignedMention& b : doc.entities.at(t))
      if (a.sent_id == b.sent_id) return true;
  return false;
}

}  // namespace cotrain::data
