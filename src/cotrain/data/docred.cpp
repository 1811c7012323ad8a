#include "cotrain/data/docred.h"

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"

namespace cotrain::data {
namespace {

using json = nlohmann::json;

// A problem inside one document; parse_document adds file and index.
struct BadDocument {
  std::string reason;
};

template <typename... Args>
[[noreturn]] void bad(fmt::format_string<Args...> format, Args&&... args) {
  throw BadDocument{fmt::format(format, std::forward<Args>(args)...)};
}

const json& member(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) bad("{}: missing \"{}\"", where, key);
  return *it;
}

const json& list(const json& value, const std::string& where) {
  if (!value.is_array()) bad("{}: expected a list, got {}", where, value.type_name());
  return value;
}

std::string string(const json& value, const std::string& where) {
  if (!value.is_string()) bad("{}: expected a string, got {}", where, value.type_name());
  return value.get<std::string>();
}

int64_t integer(const json& value, const std::string& where) {
  if (!value.is_number_integer()) bad("{}: expected an integer, got {}", where, value.dump());
  return value.get<int64_t>();
}

std::vector<std::string> words(const json& value, const std::string& where) {
  std::vector<std::string> out;
  size_t i = 0;
  for (const json& w : list(value, where)) out.push_back(string(w, fmt::format("{}[{}]", where, i++)));
  return out;
}

// Relation ids are strings in DocRED ("P17"); some files use integers.
std::string relation_id(const json& value, const std::string& where) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  bad("{}: relation must be a string or an integer, got {}", where, value.dump());
}

Mention parse_mention(const json& m, const std::string& where) {
  if (!m.is_object()) bad("{}: expected an object, got {}", where, m.type_name());
  Mention out;
  out.name = string(member(m, "name", where), where + ".name");
  out.sent_id = integer(member(m, "sent_id", where), where + ".sent_id");
  const json& pos = list(member(m, "pos", where), where + ".pos");
  if (pos.size() != 2) bad("{}.pos: expected [begin, end], got {}", where, pos.dump());
  out.begin = integer(pos[0], where + ".pos[0]");
  out.end = integer(pos[1], where + ".pos[1]");
  if (auto it = m.find("type"); it != m.end() && !it->is_null()) out.type = string(*it, where + ".type");
  if (auto it = m.find("id"); it != m.end() && !it->is_null()) {
    if (it->is_string()) out.id = it->get<std::string>();
    else if (it->is_number_integer()) out.id = std::to_string(it->get<int64_t>());
    else bad("{}.id: expected a string or an integer, got {}", where, it->dump());
  }
  return out;
}

Document parse_unvalidated(const json& d) {
  if (!d.is_object()) bad("expected an object, got {}", d.type_name());
  Document doc;
  if (auto it = d.find("title"); it != d.end() && !it->is_null()) doc.title = string(*it, "title");
  const bool has_sents = d.contains("sents"), has_tok = d.contains("tokenized_sents");
  if (!has_sents && !has_tok) bad("neither \"sents\" nor \"tokenized_sents\"");
  if (has_sents) {
    size_t i = 0;
    for (const json& s : list(d.at("sents"), "sents")) doc.sents.push_back(words(s, fmt::format("sents[{}]", i++)));
  }
  if (has_tok) {
    size_t i = 0;
    for (const json& s : list(d.at("tokenized_sents"), "tokenized_sents")) {
      std::vector<std::vector<std::string>> sentence;
      size_t j = 0;
      for (const json& w : list(s, fmt::format("tokenized_sents[{}]", i)))
        sentence.push_back(words(w, fmt::format("tokenized_sents[{}][{}]", i, j++)));
      doc.tokenized_sents.push_back(std::move(sentence));
      ++i;
    }
  }
  size_t e = 0;
  for (const json& entity : list(member(d, "vertexSet", "document"), "vertexSet")) {
    Entity out;
    size_t k = 0;
    for (const json& m : list(entity, fmt::format("vertexSet[{}]", e)))
      out.mentions.push_back(parse_mention(m, fmt::format("vertexSet[{}][{}]", e, k++)));
    doc.entities.push_back(std::move(out));
    ++e;
  }
  if (auto it = d.find("labels"); it != d.end() && !it->is_null()) {
    size_t i = 0;
    for (const json& l : list(*it, "labels")) {
      const std::string where = fmt::format("labels[{}]", i++);
      if (!l.is_object()) bad("{}: expected an object, got {}", where, l.type_name());
      Label label;
      label.h = integer(member(l, "h", where), where + ".h");
      label.t = integer(member(l, "t", where), where + ".t");
      label.r = relation_id(member(l, "r", where), where + ".r");
      if (auto ev = l.find("evidence"); ev != l.end() && !ev->is_null()) {
        size_t j = 0;
        for (const json& s : list(*ev, where + ".evidence"))
          label.evidence.push_back(integer(s, fmt::format("{}.evidence[{}]", where, j++)));
      }
      doc.labels.push_back(std::move(label));
    }
  }
  if (auto it = d.find("na_triple"); it != d.end() && !it->is_null()) {
    size_t i = 0;
    for (const json& p : list(*it, "na_triple")) {
      const std::string where = fmt::format("na_triple[{}]", i++);
      if (!p.is_array() || p.size() != 2) bad("{}: expected [h, t], got {}", where, p.dump());
      doc.na_triples.emplace_back(integer(p[0], where + "[0]"), integer(p[1], where + "[1]"));
    }
  }
  return doc;
}

}  // namespace

size_t Document::num_words() const {
  size_t n = 0;
  for (size_t i = 0; i < num_sents(); ++i) n += sent_length(i);
  return n;
}

RelationNames read_relation_names_json(const std::string& path) {
  json j;
  try {
    j = json::parse(read_whole_file(path));
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
  if (!j.is_object()) fail("{}: expected a JSON object {{relation id: name}}, got {}", path, j.type_name());
  RelationNames names;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) fail("{}: relation {}: name must be a string, got {}", path, it.key(), it.value().dump());
    names[it.key()] = it.value().get<std::string>();
  }
  return names;
}

OnBadRecord parse_on_bad_record(const std::string& value) {
  if (value == "fail") return OnBadRecord::fail;
  if (value == "skip") return OnBadRecord::skip;
  fail("--on-bad-record: expected 'skip' or 'fail', got '{}'", value);
}

std::string validate_document(const Document& doc, const RelationNames* relations) {
  if (!doc.sents.empty() && !doc.tokenized_sents.empty()) {
    if (doc.sents.size() != doc.tokenized_sents.size())
      return fmt::format("sents has {} sentences but tokenized_sents has {}", doc.sents.size(),
                         doc.tokenized_sents.size());
    for (size_t i = 0; i < doc.sents.size(); ++i)
      if (doc.sents[i].size() != doc.tokenized_sents[i].size())
        return fmt::format("sentence {}: sents has {} words but tokenized_sents has {}", i, doc.sents[i].size(),
                           doc.tokenized_sents[i].size());
  }
  if (doc.num_words() == 0) return "empty document (no words)";
  const int64_t n_sents = static_cast<int64_t>(doc.num_sents());
  const int64_t n_entities = static_cast<int64_t>(doc.entities.size());
  for (int64_t e = 0; e < n_entities; ++e) {
    const auto& mentions = doc.entities[e].mentions;
    if (mentions.empty()) return fmt::format("vertexSet[{}]: entity has no mention", e);
    for (size_t k = 0; k < mentions.size(); ++k) {
      const Mention& m = mentions[k];
      if (m.sent_id < 0 || m.sent_id >= n_sents)
        return fmt::format("vertexSet[{}][{}]: sent_id {} out of range (document has {} sentences)", e, k, m.sent_id,
                           n_sents);
      const int64_t len = static_cast<int64_t>(doc.sent_length(m.sent_id));
      if (m.begin < 0 || m.end > len || m.begin >= m.end)
        return fmt::format("vertexSet[{}][{}]: span [{}, {}) out of range (sentence {} has {} words)", e, k, m.begin,
                           m.end, m.sent_id, len);
    }
  }
  for (size_t i = 0; i < doc.labels.size(); ++i) {
    const Label& l = doc.labels[i];
    if (l.h < 0 || l.h >= n_entities || l.t < 0 || l.t >= n_entities)
      return fmt::format("labels[{}]: entity index (h {}, t {}) out of range (document has {} entities)", i, l.h, l.t,
                         n_entities);
    if (relations && !relations->count(l.r)) return fmt::format("labels[{}]: unknown relation '{}'", i, l.r);
    for (int64_t s : l.evidence)
      if (s < 0 || s >= n_sents)
        return fmt::format("labels[{}]: evidence sentence {} out of range (document has {} sentences)", i, s, n_sents);
  }
  for (size_t i = 0; i < doc.na_triples.size(); ++i) {
    auto [h, t] = doc.na_triples[i];
    if (h < 0 || h >= n_entities || t < 0 || t >= n_entities)
      return fmt::format("na_triple[{}]: entity index (h {}, t {}) out of range (document has {} entities)", i, h, t,
                         n_entities);
  }
  return "";
}

Document parse_document(const json& d, const std::string& file, size_t index, const RelationNames* relations) {
  Document doc;
  try {
    doc = parse_unvalidated(d);
  } catch (const BadDocument& e) {
    fail("{}: document {}: {}", file, index, e.reason);
  }
  const std::string why = validate_document(doc, relations);
  if (!why.empty()) fail("{}: document {}: {}", file, index, why);
  return doc;
}

std::vector<Document> parse_docred(const json& docs, const std::string& file, const DocredReadOptions& options,
                                   DocredReadReport* report) {
  if (!docs.is_array()) fail("{}: expected a JSON list of documents, got {}", file, docs.type_name());
  DocredReadReport local;
  DocredReadReport& r = report ? *report : local;
  r = DocredReadReport{};
  std::vector<Document> out;
  out.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    ++r.documents;
    try {
      out.push_back(parse_document(docs[i], file, i, options.relations));
      ++r.kept;
    } catch (const Error& e) {
      if (options.on_bad_record == OnBadRecord::fail) throw;
      ++r.skipped;
      if (r.first_reasons.size() < options.max_reasons) r.first_reasons.push_back(e.what());
    }
  }
  return out;
}

namespace {

// Calls fn(begin, end, index) for each element of the top-level JSON list in `text`,
// so that each document is parsed on its own: a whole-file DOM of a large corpus
// takes about ten times the file's size in memory. Only the element boundaries are
// found here (brackets outside strings); each element is then parsed strictly.
template <typename Fn>
void for_each_list_element(const std::string& text, const std::string& path, Fn fn) {
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  size_t i = 0;
  const size_t n = text.size();
  while (i < n && is_space(text[i])) ++i;
  if (i == n || text[i] != '[') {
    // Not a list: let the JSON parser say what it is (or why it is not JSON).
    json j;
    try {
      j = json::parse(text);
    } catch (const json::exception& e) {
      fail("{}: not valid JSON: {}", path, e.what());
    }
    fail("{}: expected a JSON list of documents, got {}", path, j.type_name());
  }
  ++i;
  size_t index = 0;
  while (true) {
    while (i < n && is_space(text[i])) ++i;
    if (i == n) fail("{}: not valid JSON: the list is not closed", path);
    if (text[i] == ']') {
      ++i;
      break;
    }
    if (index > 0) {
      if (text[i] != ',') fail("{}: not valid JSON: expected ',' or ']' after document {}", path, index - 1);
      ++i;
      while (i < n && is_space(text[i])) ++i;
    }
    const size_t begin = i;
    int depth = 0;
    bool in_string = false;
    for (; i < n; ++i) {
      const char c = text[i];
      if (in_string) {
        if (c == '\\') ++i;
        else if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      else if (c == '{' || c == '[') ++depth;
      else if (c == '}' || c == ']') {
        if (depth == 0) break;  // the list's own ']' after a scalar element
        if (--depth == 0) {
          ++i;
          break;
        }
      } else if (c == ',' && depth == 0) break;
    }
    if (depth != 0 || in_string) fail("{}: not valid JSON: document {} is not closed", path, index);
    fn(text.data() + begin, text.data() + i, index++);
  }
  while (i < n && is_space(text[i])) ++i;
  if (i != n) fail("{}: not valid JSON: text after the list of documents", path);
}

}  // namespace

std::vector<Document> read_docred(const std::string& path, const DocredReadOptions& options,
                                  DocredReadReport* report) {
  const std::string text = read_whole_file(path);
  DocredReadReport local;
  DocredReadReport& r = report ? *report : local;
  r = DocredReadReport{};
  std::vector<Document> out;
  for_each_list_element(text, path, [&](const char* begin, const char* end, size_t index) {
    ++r.documents;
    try {
      json d;
      try {
        d = json::parse(begin, end);
      } catch (const json::exception& e) {
        fail("{}: document {}: not valid JSON: {}", path, index, e.what());
      }
      out.push_back(parse_document(d, path, index, options.relations));
      ++r.kept;
    } catch (const Error& e) {
      if (options.on_bad_record == OnBadRecord::fail) throw;
      ++r.skipped;
      if (r.first_reasons.size() < options.max_reasons) r.first_reasons.push_back(e.what());
    }
  });
  return out;
}

std::string DocredReadReport::summary() const {
  std::string s = fmt::format("{} documents, {} kept, {} skipped", documents, kept, skipped);
  for (const std::string& why : first_reasons) s += "; " + why;
  if (skipped > first_reasons.size()) s += fmt::format("; ... ({} more)", skipped - first_reasons.size());
  return s;
}

json document_to_json(const Document& doc) {
  json d = json::object();
  d["title"] = doc.title;
  if (!doc.sents.empty() || doc.tokenized_sents.empty()) d["sents"] = doc.sents;
  if (!doc.tokenized_sents.empty()) d["tokenized_sents"] = doc.tokenized_sents;
  json vertex_set = json::array();
  for (const Entity& e : doc.entities) {
    json mentions = json::array();
    for (const Mention& m : e.mentions) {
      json jm = {{"name", m.name}, {"pos", {m.begin, m.end}}, {"sent_id", m.sent_id}, {"type", m.type}};
      if (!m.id.empty()) jm["id"] = m.id;
      mentions.push_back(std::move(jm));
    }
    vertex_set.push_back(std::move(mentions));
  }
  d["vertexSet"] = std::move(vertex_set);
  json labels = json::array();
  for (const Label& l : doc.labels) labels.push_back({{"h", l.h}, {"t", l.t}, {"r", l.r}, {"evidence", l.evidence}});
  d["labels"] = std::move(labels);
  json na = json::array();
  for (auto [h, t] : doc.na_triples) na.push_back({h, t});
  d["na_triple"] = std::move(na);
  return d;
}

void write_docred(const std::string& path, const std::vector<Document>& docs) {
  std::string text = "[";
  for (size_t i = 0; i < docs.size(); ++i) {
    text += i ? ",\n" : "\n";
    try {
      text += document_to_json(docs[i]).dump(-1, ' ', false, json::error_handler_t::strict);
    } catch (const json::type_error& e) {  // invalid UTF-8 in a word or name
      fail("{}: document {} ('{}'): cannot be written as JSON: {}", path, i, docs[i].title, e.what());
    }
  }
  text += docs.empty() ? "]\n" : "\n]\n";
  write_file_atomically(path, text);
}

}  // namespace cotrain::data
