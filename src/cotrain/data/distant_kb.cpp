#include "cotrain/data/distant_kb.h"

#include <algorithm>
#include <fstream>

#include "cotrain/core/error.h"
#include "cotrain/data/distant_text.h"

namespace cotrain::data {
namespace {

// Calls fn(fields, line_no) for every non-blank, non-comment line split at tabs.
template <typename Fn>
void for_each_tsv_line(const std::string& path, Fn fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    fn(fields, line_no);
  }
}

// Why the fields are unusable ("" if fine): column count within [lo, hi], none empty.
std::string check_fields(const std::vector<std::string>& f, size_t lo, size_t hi, const char* layout) {
  if (f.size() < lo || f.size() > hi)
    return fmt::format("expected {} tab-separated fields ({}), got {}", lo == hi ? std::to_string(lo) : fmt::format("{} or {}", lo, hi),
                       layout, f.size());
  for (size_t i = 0; i < lo; ++i)
    if (f[i].find_first_not_of(' ') == std::string::npos) return fmt::format("field {} is empty", i + 1);
  return "";
}

}  // namespace

void BadRecordLog::report(const std::string& reason) {
  if (policy == OnBadRecord::fail) throw Error(reason);
  ++skipped;
  if (first_reasons.size() < 5) first_reasons.push_back(reason);
}

int32_t KnowledgeBase::intern(const std::string& entity_id) {
  auto [it, inserted] = index_.emplace(entity_id, static_cast<int32_t>(ids_.size()));
  if (inserted) {
    ids_.push_back(entity_id);
    types_.emplace_back();
    entity_alias_words_.push_back(0);
  }
  return it->second;
}

int32_t KnowledgeBase::find_entity(const std::string& entity_id) const {
  auto it = index_.find(entity_id);
  return it == index_.end() ? -1 : it->second;
}

std::string KnowledgeBase::key_of(const std::vector<std::string>& words, size_t begin, size_t end) {
  std::string key;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) key += '\x1f';
    key += words[i];
  }
  return key;
}

void KnowledgeBase::add_alias(int32_t entity, const std::vector<std::string>& words) {
  if (words.empty()) return;
  auto& list = aliases_[key_of(words, 0, words.size())];
  if (std::find(list.begin(), list.end(), entity) == list.end()) {
    list.push_back(entity);
    ++num_aliases;
  }
  max_alias_words_ = std::max(max_alias_words_, words.size());
  entity_alias_words_[entity] = std::max(entity_alias_words_[entity], words.size());
}

void KnowledgeBase::set_type(int32_t entity, const std::string& type) {
  if (types_[entity].empty()) types_[entity] = type;
}

void KnowledgeBase::add_triple(int32_t head, const std::string& relation, int32_t tail) {
  auto& list = triples_[pair_key(head, tail)];
  if (std::find(list.begin(), list.end(), relation) == list.end()) {
    list.push_back(relation);
    ++num_triples;
  }
}

const std::vector<int32_t>* KnowledgeBase::lookup(const std::string& key) const {
  auto it = aliases_.find(key);
  return it == aliases_.end() ? nullptr : &it->second;
}

const std::vector<std::string>* KnowledgeBase::relations(int32_t head, int32_t tail) const {
  auto it = triples_.find(pair_key(head, tail));
  return it == triples_.end() ? nullptr : &it->second;
}

RelationNames read_relation_names(const std::string& path, BadRecordLog& log) {
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot open", path);
    char c = 0;
    while (in.get(c) && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
    }
    if (in && c == '{') return read_relation_names_json(path);
  }
  RelationNames names;
  for_each_tsv_line(path, [&](const std::vector<std::string>& f, size_t line) {
    std::string why = check_fields(f, 2, 2, "relation_id, name");
    if (why.empty() && names.count(f[0])) why = fmt::format("relation '{}' named twice", f[0]);
    if (!why.empty()) return log.report(fmt::format("{}: line {}: {}", path, line, why));
    names[f[0]] = f[1];
  });
  return names;
}

void read_aliases(const std::string& path, KnowledgeBase& kb, BadRecordLog& log) {
  for_each_tsv_line(path, [&](const std::vector<std::string>& f, size_t line) {
    std::string why = check_fields(f, 2, 3, "entity_id, alias[, type]");
    std::vector<std::string> words;
    if (why.empty()) {
      words = split_words(kb.ignore_case() ? ascii_lower(f[1]) : f[1]);
      if (words.empty()) why = "alias has no word";
    }
    if (!why.empty()) return log.report(fmt::format("{}: line {}: {}", path, line, why));
    const int32_t e = kb.intern(f[0]);
    kb.add_alias(e, words);
    if (f.size() == 3) kb.set_type(e, f[2]);
  });
}

void read_triples(const std::string& path, KnowledgeBase& kb, BadRecordLog& log) {
  for_each_tsv_line(path, [&](const std::vector<std::string>& f, size_t line) {
    std::string why = check_fields(f, 3, 3, "head_id, relation_id, tail_id");
    if (why.empty() && !kb.names.count(f[1])) why = fmt::format("relation '{}' has no name in the relations file", f[1]);
    if (!why.empty()) return log.report(fmt::format("{}: line {}: {}", path, line, why));
    // Entities without an alias can never be linked; interning them is harmless.
    kb.add_triple(kb.intern(f[0]), f[1], kb.intern(f[2]));
  });
}

}  // namespace cotrain::data
