// `cotrain distant`: builds an ERICA pretraining corpus (DocRED-format JSON) from the
// user's own documents and knowledge base. See data/distant_builder.h for the rules.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "command.h"
#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/data/distant_builder.h"
#include "cotrain/data/distant_kb.h"
#include "cotrain/data/docred.h"

namespace cotrain::app {
namespace {

struct DistantCommandOptions {
  std::string docs, aliases, triples, relations, out, rel_info_out;
  std::vector<std::string> leakage;
  std::string on_bad_record = "fail";
  std::string ambiguity = "skip";
  bool ignore_case = false;
  data::DistantOptions build;
};

void print_skips(const char* what, const data::BadRecordLog& log) {
  if (log.skipped == 0) return;
  std::cerr << fmt::format("distant: {}: {} bad records skipped\n", what, log.skipped);
  for (const std::string& why : log.first_reasons) std::cerr << "  " << why << "\n";
}

int run(DistantCommandOptions o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.ambiguity == "skip") o.build.ambiguity = data::Ambiguity::skip;
  else if (o.ambiguity == "first") o.build.ambiguity = data::Ambiguity::first;
  else fail("--ambiguous: expected 'skip' or 'first', got '{}'", o.ambiguity);
  const auto policy = data::parse_on_bad_record(o.on_bad_record);
  data::BadRecordLog names_log{policy}, alias_log{policy}, triple_log{policy}, doc_log{policy};

  data::KnowledgeBase kb;
  kb.set_ignore_case(o.ignore_case);
  kb.names = data::read_relation_names(o.relations, names_log);
  data::read_aliases(o.aliases, kb, alias_log);
  data::read_triples(o.triples, kb, triple_log);
  const auto docs = data::read_source_documents(o.docs, doc_log);
  print_skips("relations", names_log);
  print_skips("aliases", alias_log);
  print_skips("triples", triple_log);
  print_skips("documents", doc_log);

  data::PairSet leaked;
  data::DocredReadOptions read_options;
  read_options.on_bad_record = policy;
  for (const std::string& path : o.leakage) {
    data::DocredReadReport report;
    const auto eval = data::read_docred(path, read_options, &report);
    const int64_t unresolved = data::collect_entity_pairs(eval, kb, leaked);
    std::cerr << fmt::format("distant: leakage file {}: {}; {} entities not found in the KB\n", path,
                             report.summary(), unresolved);
  }

  data::DistantStats stats;
  const auto built = data::build_distant(docs, kb, o.build, o.leakage.empty() ? nullptr : &leaked, stats);
  data::write_docred(o.out, built);
  if (!o.rel_info_out.empty()) {
    nlohmann::json rel = kb.names;
    write_file_atomically(o.rel_info_out, rel.dump(1) + "\n");
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << fmt::format(
      "distant: KB {} entities, {} aliases, {} triples, {} relations; {} leakage pairs; {:.1f}s\n",
      kb.num_entities(), kb.num_aliases, kb.num_triples, kb.names.size(), leaked.size(), seconds);
  std::cout << stats.to_json() << "\n";
  return 0;
}

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<DistantCommandOptions>();
  cmd.add_option("--docs", o->docs,
                 "documents, JSONL: {\"text\": ...} or {\"sents\": [[words]]}, optional \"title\", \"entities\"")
      ->required();
  cmd.add_option("--aliases", o->aliases, "TSV: entity_id <tab> alias [<tab> type]")->required();
  cmd.add_option("--triples", o->triples, "TSV: head_id <tab> relation_id <tab> tail_id")->required();
  cmd.add_option("--relations", o->relations, "relation names: TSV (id <tab> name) or JSON {id: name}")->required();
  cmd.add_option("--out", o->out, "output: DocRED-format JSON list of documents")->required();
  cmd.add_option("--rel-info-out", o->rel_info_out, "also write the relation names as rel_info.json here");
  cmd.add_option("--leakage", o->leakage,
                 "evaluation files (DocRED format): entity pairs found in them are removed from labels and NA pairs")
      ->expected(0, -1);
  cmd.add_flag("--ignore-case", o->ignore_case, "match aliases ignoring ASCII case");
  cmd.add_option("--ambiguous", o->ambiguity, "alias of several entities: skip | first")->capture_default_str();
  cmd.add_option("--on-bad-record", o->on_bad_record, "bad input record: fail | skip (counted and reported)")
      ->capture_default_str();
  auto& b = o->build;
  cmd.add_option("--min-words", b.min_words, "keep documents with at least this many words")->capture_default_str();
  cmd.add_option("--max-words", b.max_words, "... and at most this many")->capture_default_str();
  cmd.add_option("--min-entities", b.min_entities, "keep documents with at least this many linked entities")
      ->capture_default_str();
  cmd.add_option("--max-entities", b.max_entities, "... and at most this many")->capture_default_str();
  cmd.add_option("--min-labels", b.min_labels, "keep documents with at least this many labels")->capture_default_str();
  cmd.add_option("--max-labels", b.max_labels, "... and at most this many")->capture_default_str();
  cmd.add_option("--max-na", b.max_na, "NA pairs sampled into na_triple per document")->capture_default_str();
  cmd.add_option("--seed", b.seed, "seed of the NA sampling")->capture_default_str();
  cmd.footer(
      "Mentions: longest alias match within a sentence, left to right, never overlapping.\n"
      "Labels: one per KB relation between linked entities. Filters (inclusive bounds) default to\n"
      "ERICA's: 128 < words <= 510, 4..20 entities, 4..30 labels. Prints counts as one JSON line.");
  return [o] { return run(*o); };
}

Registration reg("distant", "build an ERICA distant-supervision corpus from documents + a knowledge base", setup);

}  // namespace
}  // namespace cotrain::app
