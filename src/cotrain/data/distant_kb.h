// The knowledge base `cotrain distant` links text against:
//   aliases   TSV  entity_id \t alias [\t type]   (one alias per line; an entity may
//                  have many; the optional type goes into the mentions' "type")
//   triples   TSV  head_id \t relation_id \t tail_id
//   relations TSV  relation_id \t name, or a JSON object {relation_id: name}
// Blank lines and lines starting with '#' are ignored. A line with the wrong number
// of columns, an empty field, or a triple whose relation has no name is a bad
// record: an error naming file and line, or skipped and counted.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "cotrain/data/docred.h"

namespace cotrain::data {

struct BadRecordLog {
  OnBadRecord policy = OnBadRecord::fail;
  size_t skipped = 0;
  std::vector<std::string> first_reasons;  // at most 5
  // Fails or records `reason` ("FILE: line N: why") per policy.
  void report(const std::string& reason);
};

class KnowledgeBase {
 public:
  // Entities are interned: index <-> id string.
  int32_t intern(const std::string& entity_id);
  int32_t find_entity(const std::string& entity_id) const;  // -1 if unknown
  const std::string& entity_id(int32_t e) const { return ids_[e]; }
  const std::string& entity_type(int32_t e) const { return types_[e]; }
  size_t num_entities() const { return ids_.size(); }

  // Alias words (already split with split_words, and case-folded if the index is).
  void add_alias(int32_t entity, const std::vector<std::string>& words);
  void set_type(int32_t entity, const std::string& type);
  void add_triple(int32_t head, const std::string& relation, int32_t tail);

  // Entities whose alias is exactly these words (joined key), in the order added.
  const std::vector<int32_t>* lookup(const std::string& key) const;
  static std::string key_of(const std::vector<std::string>& words, size_t begin, size_t end);
  size_t max_alias_words() const { return max_alias_words_; }
  // Longest alias of one entity, in words (0 for an entity without alias).
  size_t max_alias_words(int32_t entity) const { return entity_alias_words_[entity]; }
  bool ignore_case() const { return ignore_case_; }
  void set_ignore_case(bool on) { ignore_case_ = on; }

  // Relations from head to tail (distinct relation ids), or nullptr.
  const std::vector<std::string>* relations(int32_t head, int32_t tail) const;

  RelationNames names;
  size_t num_aliases = 0, num_triples = 0;

 private:
  static uint64_t pair_key(int32_t h, int32_t t) { return (static_cast<uint64_t>(static_cast<uint32_t>(h)) << 32) | static_cast<uint32_t>(t); }
  std::vector<std::string> ids_, types_;
  std::vector<size_t> entity_alias_words_;
  std::unordered_map<std::string, int32_t> index_;
  std::unordered_map<std::string, std::vector<int32_t>> aliases_;
  std::unordered_map<uint64_t, std::vector<std::string>> triples_;
  size_t max_alias_words_ = 0;
  bool ignore_case_ = false;
};

// Relation names from TSV or JSON (a file whose first non-blank character is '{').
RelationNames read_relation_names(const std::string& path, BadRecordLog& log);
// Reads aliases (split into words, ASCII-lower-cased when kb.ignore_case()).
void read_aliases(const std::string& path, KnowledgeBase& kb, BadRecordLog& log);
// Reads triples; kb.names must be set first (a relation without a name is a bad record).
void read_triples(const std::string& path, KnowledgeBase& kb, BadRecordLog& log);

}  // namespace cotrain::data
