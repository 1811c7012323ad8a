#include "cotrain/data/wordnet_erica.h"

#include <chrono>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/data/distant_text.h"
#include "cotrain/data/wordnet_corpus.h"

namespace cotrain::data::wordnet {
namespace {

using json = nlohmann::json;

const char* const kLexnames[] = {
    "adj.all",         "adj.pert",         "adv.all",          "noun.Tops",      "noun.act",        "noun.animal",
    "noun.artifact",   "noun.attribute",   "noun.body",        "noun.cognition", "noun.communication",
    "noun.event",      "noun.feeling",     "noun.food",        "noun.group",     "noun.location",   "noun.motive",
    "noun.object",     "noun.person",      "noun.phenomenon",  "noun.plant",     "noun.possession", "noun.process",
    "noun.quantity",   "noun.relation",    "noun.shape",       "noun.state",     "noun.substance",  "noun.time",
    "verb.body",       "verb.change",      "verb.cognition",   "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact",    "verb.creation",    "verb.emotion",   "verb.motion",     "verb.perception",
    "verb.possession", "verb.social",      "verb.stative",     "verb.weather",   "adj.ppl"};

// Which split a center goes to: a hash of (seed, center id), so adding synsets or
// changing max_docs does not move other centers between splits.
int split_of(const std::string& id, uint64_t seed, double dev, double test) {
  uint64_t h = 1469598103934665603ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  const double u = static_cast<double>(h >> 11) / static_cast<double>(1ULL << 53);
  if (u < test) return 2;
  if (u < test + dev) return 1;
  return 0;
}

std::string alias_key(const std::string& lemma) {
  const auto words = split_words(ascii_lower(lemma_text(lemma)));
  return KnowledgeBase::key_of(words, 0, words.size());
}

struct Built {
  std::vector<SourceDocument> split[3];
  int64_t centers = 0, eligible = 0, neighbors_skipped_for_headword = 0;
};

Built make_documents(const Database& db, const EricaOptions& o) {
  Built out;
  const auto& synsets = db.synsets();
  int64_t made = 0;
  for (size_t c = 0; c < synsets.size(); ++c) {
    if (o.max_docs > 0 && made >= o.max_docs) break;
    ++out.centers;
    const Synset& center = synsets[c];
    std::vector<size_t> members{c};
    std::unordered_set<std::string> keys;  // aliases of the synsets chosen so far
    for (const Lemma& l : center.words) keys.insert(alias_key(l.word));
    for (const Pointer& p : center.pointers) {
      if (static_cast<int64_t>(members.size()) - 1 >= o.max_neighbors) break;
      const int64_t t = db.find(p.pos, p.offset);
      if (t < 0 || std::find(members.begin(), members.end(), static_cast<size_t>(t)) != members.end()) continue;
      const Synset& n = synsets[t];
      if (n.words.empty() || keys.count(alias_key(n.words.front().word))) {
        ++out.neighbors_skipped_for_headword;
        continue;
      }
      for (const Lemma& l : n.words) keys.insert(alias_key(l.word));
      members.push_back(static_cast<size_t>(t));
    }
    if (static_cast<int64_t>(members.size()) - 1 < o.min_neighbors) continue;
    ++out.eligible;
    SourceDocument doc;
    doc.title = fmt::format("{} ({})", headword(center), synset_id(center));
    for (size_t m : members) {
      doc.candidates.push_back(synset_id(synsets[m]));
      for (const std::string& sentence : gloss_sentences(synsets[m])) {
        auto words = split_words(sentence);
        if (!words.empty()) doc.sents.push_back(std::move(words));
      }
    }
    if (doc.sents.empty()) continue;
    out.split[split_of(synset_id(center), o.seed, o.dev_fraction, o.test_fraction)].push_back(std::move(doc));
    ++made;
  }
  return out;
}

void write_jsonl(const std::string& path, const std::vector<SourceDocument>& docs) {
  std::string text;
  for (const SourceDocument& d : docs) {
    json j = {{"title", d.title}, {"sents", d.sents}, {"entities", d.candidates}};
    text += j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  write_file_atomically(path, text);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::string lexname(int lex_filenum) {
  constexpr int n = static_cast<int>(sizeof(kLexnames) / sizeof(kLexnames[0]));
  return lex_filenum >= 0 && lex_filenum < n ? kLexnames[lex_filenum] : fmt::format("lex.{}", lex_filenum);
}

std::string synset_id(const Synset& synset) { return fmt::format("{}{:08d}", file_letter(synset.ss_type), synset.offset); }

std::string relation_id(const std::string& symbol, char pos) {
  return symbol == "\\" && file_letter(pos) == 'r' ? "\\r" : symbol;
}

std::string write_erica_corpus(const Database& db, const std::string& out_dir, const EricaOptions& o) {
  if (o.dev_fraction < 0 || o.test_fraction < 0 || o.dev_fraction + o.test_fraction >= 1)
    fail("wordnet: dev and test fractions must be >= 0 and sum to less than 1 (got {} and {})", o.dev_fraction,
         o.test_fraction);
  ensure_directory(out_dir);
  const auto t0 = std::chrono::steady_clock::now();

  // The knowledge base, written as the builder's input files as well.
  KnowledgeBase kb;
  kb.set_ignore_case(true);
  std::string aliases_tsv, triples_tsv, relations_tsv;
  for (const Synset& s : db.synsets()) {
    const int32_t e = kb.intern(synset_id(s));
    kb.set_type(e, lexname(s.lex_filenum));
    for (const Lemma& l : s.words) {
      const std::string text = lemma_text(l.word);
      kb.add_alias(e, split_words(ascii_lower(text)));
      aliases_tsv += fmt::format("{}\t{}\t{}\n", synset_id(s), text, lexname(s.lex_filenum));
    }
  }
  int64_t unknown_symbols = 0, dangling = 0;
  for (const Synset& s : db.synsets()) {
    for (const Pointer& p : s.pointers) {
      const std::string name = pointer_name(p.symbol, s.ss_type);
      if (name.empty()) {
        ++unknown_symbols;
        continue;
      }
      const int64_t t = db.find(p.pos, p.offset);
      if (t < 0) {
        ++dangling;
        continue;
      }
      const Synset& target = db.synsets()[t];
      if (&target == &s) continue;
      const std::string rel = relation_id(p.symbol, s.ss_type);
      if (!kb.names.count(rel)) {
        kb.names[rel] = name;
        relations_tsv += fmt::format("{}\t{}\n", rel, name);
      }
      const size_t before = kb.num_triples;
      kb.add_triple(kb.find_entity(synset_id(s)), rel, kb.find_entity(synset_id(target)));
      if (kb.num_triples > before) triples_tsv += fmt::format("{}\t{}\t{}\n", synset_id(s), rel, synset_id(target));
    }
  }
  write_file_atomically(join_path(out_dir, "aliases.tsv"), aliases_tsv);
  write_file_atomically(join_path(out_dir, "triples.tsv"), triples_tsv);
  write_file_atomically(join_path(out_dir, "relations.tsv"), relations_tsv);
  json rel_info = kb.names;
  write_file_atomically(join_path(out_dir, "rel_info.json"), rel_info.dump(1) + "\n");
  const double kb_seconds = seconds_since(t0);

  const auto t1 = std::chrono::steady_clock::now();
  Built built = make_documents(db, o);
  const char* names[3] = {"train", "dev", "test"};
  for (int s = 0; s < 3; ++s)
    write_jsonl(join_path(out_dir, fmt::format("documents-{}.jsonl", names[s])), built.split[s]);
  const double doc_seconds = seconds_since(t1);

  const auto t2 = std::chrono::steady_clock::now();
  DistantStats stats[3];
  std::vector<Document> out[3];
  PairSet eval_pairs;
  for (int s : {1, 2}) {
    out[s] = build_distant(built.split[s], kb, o.build, nullptr, stats[s]);
    collect_entity_pairs(out[s], kb, eval_pairs);
  }
  out[0] = build_distant(built.split[0], kb, o.build, &eval_pairs, stats[0]);
  for (int s = 0; s < 3; ++s) write_docred(join_path(out_dir, fmt::format("{}.json", names[s])), out[s]);
  const double build_seconds = seconds_since(t2);

  json report = {{"synsets", db.synsets().size()},
                 {"kb_entities", kb.num_entities()},
                 {"kb_aliases", kb.num_aliases},
                 {"kb_triples", kb.num_triples},
                 {"relations", kb.names.size()},
                 {"pointers_unknown_symbol", unknown_symbols},
                 {"pointers_dangling", dangling},
                 {"centers", built.centers},
                 {"centers_with_enough_neighbors", built.eligible},
                 {"neighbors_skipped_for_headword", built.neighbors_skipped_for_headword},
                 {"eval_entity_pairs", eval_pairs.size()},
                 {"seconds", {{"kb", kb_seconds}, {"documents", doc_seconds}, {"build_and_write", build_seconds}}}};
  for (int s = 0; s < 3; ++s) report[names[s]] = json::parse(stats[s].to_json());
  const std::string text = report.dump();
  write_file_atomically(join_path(out_dir, "stats.json"), report.dump(1) + "\n");
  return text;
}

}  // namespace cotrain::data::wordnet
