// DocRED documents and ERICA's distant-supervision documents (erica.md): a JSON list
// of documents, each with `sents` (sentence -> words) or `tokenized_sents`
// (sentence -> word -> sub-words), `vertexSet` (entity -> mentions {name, pos:
// [begin, end) word indices within the sentence, sent_id, type[, id]}), `labels`
// ({h, t, r[, evidence]}), optional `na_triple` ([[h, t], ...]) and `title`.
//
// Every document is validated; a bad one is reported as "FILE: document I: REASON"
// and either stops the read (OnBadRecord::fail) or is skipped and counted (skip).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace cotrain::data {

struct Mention {
  std::string name;
  int64_t sent_id = 0;
  int64_t begin = 0;  // word index within the sentence (inclusive)
  int64_t end = 0;    // exclusive
  std::string type;
  std::string id;  // knowledge-base id when the file gives one (ERICA data, our builder)
};

struct Entity {
  std::vector<Mention> mentions;
};

struct Label {
  int64_t h = 0;
  int64_t t = 0;
  std::string r;                  // relation id ("P17"); integers in the file become "17"
  std::vector<int64_t> evidence;  // sentence ids (DocRED); empty when absent
};

struct Document {
  std::string title;
  std::vector<std::vector<std::string>> sents;  // words; empty when only tokenized_sents is given
  // sentence -> word -> sub-word strings (ERICA's pre-tokenised files); empty when absent.
  std::vector<std::vector<std::vector<std::string>>> tokenized_sents;
  std::vector<Entity> entities;  // the vertexSet
  std::vector<Label> labels;
  std::vector<std::pair<int64_t, int64_t>> na_triples;

  size_t num_sents() const { return sents.empty() ? tokenized_sents.size() : sents.size(); }
  size_t sent_length(size_t i) const { return sents.empty() ? tokenized_sents[i].size() : sents[i].size(); }
  size_t num_words() const;
};

// Relation id -> natural-language name ("P17" -> "country").
using RelationNames = std::map<std::string, std::string>;

// Reads a JSON object {id: name} (DocRED's rel_info.json).
RelationNames read_relation_names_json(const std::string& path);

enum class OnBadRecord { fail, skip };
// Parses "fail" / "skip" (for --on-bad-record); anything else is a cotrain::Error.
OnBadRecord parse_on_bad_record(const std::string& value);

struct DocredReadOptions {
  OnBadRecord on_bad_record = OnBadRecord::fail;
  // When set, a label whose relation is not in the map is a bad record.
  const RelationNames* relations = nullptr;
  size_t max_reasons = 5;  // how many skip reasons to keep for the report
};

struct DocredReadReport {
  size_t documents = 0;  // in the file
  size_t kept = 0;
  size_t skipped = 0;
  std::vector<std::string> first_reasons;  // "FILE: document I: REASON", at most max_reasons
  std::string summary() const;             // one line for the run's log
};

// Reads a JSON list of documents. A file that is not valid JSON or not a list is
// always an error; a bad document is handled per options.on_bad_record.
std::vector<Document> read_docred(const std::string& path, const DocredReadOptions& options = {},
                                  DocredReadReport* report = nullptr);
// Same from parsed JSON; `file` only names the source in messages.
std::vector<Document> parse_docred(const nlohmann::json& list, const std::string& file,
                                   const DocredReadOptions& options = {}, DocredReadReport* report = nullptr);

// Parses and validates one document; throws cotrain::Error "FILE: document I: REASON".
Document parse_document(const nlohmann::json& doc, const std::string& file, size_t index,
                        const RelationNames* relations = nullptr);
// Checks spans, sentence ids, entity indices, relations; returns the first problem or "".
std::string validate_document(const Document& doc, const RelationNames* relations = nullptr);

// DocRED-format JSON of a document (sents or tokenized_sents, whichever it has).
nlohmann::json document_to_json(const Document& doc);
// Writes a JSON list of documents (atomically: a temporary file renamed into place).
void write_docred(const std::string& path, const std::vector<Document>& docs);

}  // namespace cotrain::data
