#include "cotrain/data/wordnet.h"

#include <fstream>
#include <map>

#include "cotrain/core/error.h"

namespace cotrain::data::wordnet {
namespace {

// Space-separated fields of the part of a line before the gloss, consumed in order;
// every read says what it expected so that errors explain themselves.
class Fields {
 public:
  Fields(const std::string& text, const std::string& file, size_t line_no) : file_(file), line_no_(line_no) {
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && text[i] == ' ') ++i;
      size_t j = i;
      while (j < text.size() && text[j] != ' ') ++j;
      if (j > i) fields_.push_back(text.substr(i, j - i));
      i = j;
    }
  }
  bool done() const { return next_ >= fields_.size(); }
  const std::string& take(const char* what) {
    if (done()) bad("line ends before {}", what);
    return fields_[next_++];
  }
  uint64_t number(const char* what, int base, size_t max_digits) {
    const std::string& f = take(what);
    if (f.empty() || f.size() > max_digits) bad("{} '{}' is not a {}-digit number", what, f, max_digits);
    uint64_t value = 0;
    for (char c : f) {
      int digit = -1;
      if (c >= '0' && c <= '9') digit = c - '0';
      else if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      else if (base == 16 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
      if (digit < 0) bad("{} '{}' is not a {} number", what, f, base == 16 ? "hexadecimal" : "decimal");
      value = value * base + digit;
    }
    return value;
  }
  char pos(const char* what) {
    const std::string& f = take(what);
    if (f.size() != 1 || std::string("nvasr").find(f[0]) == std::string::npos)
      bad("{} '{}' is not one of n v a s r", what, f);
    return f[0];
  }
  template <typename... Args>
  [[noreturn]] void bad(fmt::format_string<Args...> format, Args&&... args) const {
    fail("{}: line {}: {}", file_, line_no_, fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  std::vector<std::string> fields_;
  size_t next_ = 0;
  const std::string& file_;
  size_t line_no_;
};

// Adjective lemmas may carry a syntactic marker: "galore(ip)", "elect(p)", "former(a)".
void split_marker(Lemma& lemma) {
  for (const char* m : {"(ip)", "(p)", "(a)"}) {
    std::string suffix(m);
    const std::string& w = lemma.word;
    if (w.size() > suffix.size() && w.compare(w.size() - suffix.size(), suffix.size(), suffix) == 0) {
      lemma.marker = suffix.substr(1, suffix.size() - 2);
      lemma.word = w.substr(0, w.size() - suffix.size());
      return;
    }
  }
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

char file_letter(char pos) { return pos == 's' ? 'a' : pos; }

Synset parse_synset_line(const std::string& line, const std::string& file, size_t line_no) {
  size_t bar = line.find('|');
  if (bar == std::string::npos) fail("{}: line {}: no '|' before the gloss", file, line_no);
  Fields f(line.substr(0, bar), file, line_no);
  Synset s;
  s.offset = static_cast<uint32_t>(f.number("synset offset", 10, 10));
  s.lex_filenum = static_cast<int>(f.number("lex_filenum", 10, 2));
  s.ss_type = f.pos("ss_type");
  const uint64_t w_cnt = f.number("w_cnt", 16, 2);
  if (w_cnt == 0) f.bad("w_cnt is 0 (a synset has at least one word)");
  for (uint64_t i = 0; i < w_cnt; ++i) {
    Lemma lemma;
    lemma.word = f.take("a word");
    lemma.lex_id = static_cast<int>(f.number("lex_id", 16, 1));
    if (s.ss_type == 'a' || s.ss_type == 's') split_marker(lemma);
    s.words.push_back(std::move(lemma));
  }
  const uint64_t p_cnt = f.number("p_cnt", 10, 3);
  for (uint64_t i = 0; i < p_cnt; ++i) {
    Pointer p;
    p.symbol = f.take("a pointer symbol");
    p.offset = static_cast<uint32_t>(f.number("pointer offset", 10, 10));
    p.pos = f.pos("pointer pos");
    const uint64_t st = f.number("pointer source/target", 16, 4);
    p.source = static_cast<int>(st >> 8);
    p.target = static_cast<int>(st & 0xff);
    if (p.source > static_cast<int>(w_cnt)) f.bad("pointer source word {} > w_cnt {}", p.source, w_cnt);
    s.pointers.push_back(std::move(p));
  }
  if (s.ss_type == 'v' && !f.done()) {
    const uint64_t f_cnt = f.number("f_cnt", 10, 2);
    for (uint64_t i = 0; i < f_cnt; ++i) {
      const std::string& plus = f.take("'+' of a verb frame");
      if (plus != "+") f.bad("expected '+' before a verb frame, got '{}'", plus);
      VerbFrame fr;
      fr.frame = static_cast<int>(f.number("frame number", 10, 2));
      fr.word = static_cast<int>(f.number("frame word number", 16, 2));
      s.frames.push_back(fr);
    }
  }
  if (!f.done()) f.bad("unexpected '{}' before the gloss", f.take(""));
  s.gloss = trim(line.substr(bar + 1));
  return s;
}

std::vector<Synset> read_data_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::vector<Synset> out;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("  ", 0) == 0) continue;  // license header
    if (trim(line).empty()) continue;
    out.push_back(parse_synset_line(line, path, line_no));
  }
  return out;
}

Database Database::load(const std::string& dict_dir) {
  Database db;
  for (const char* name : {"data.noun", "data.verb", "data.adj", "data.adv"}) {
    for (Synset& s : read_data_file(dict_dir + "/" + name)) db.add(std::move(s));
  }
  return db;
}

uint64_t Database::key(char pos, uint32_t offset) {
  return (static_cast<uint64_t>(static_cast<unsigned char>(file_letter(pos))) << 32) | offset;
}

void Database::add(Synset synset) {
  index_[key(synset.ss_type, synset.offset)] = static_cast<int64_t>(synsets_.size());
  synsets_.push_back(std::move(synset));
}

int64_t Database::find(char pos, uint32_t offset) const {
  auto it = index_.find(key(pos, offset));
  return it == index_.end() ? -1 : it->second;
}

Gloss split_gloss(const std::string& raw) {
  const std::string s = trim(raw);
  // An example opens with a double quote at the start of the gloss or right after a
  // ';' or ':' (spaces allowed); quotes inside the definition ('as in "carrot and
  // stick"') do not.
  auto opens_example = [&](size_t q) {
    size_t k = q;
    while (k > 0 && s[k - 1] == ' ') --k;
    return k == 0 || s[k - 1] == ';' || s[k - 1] == ':';
  };
  size_t first = s.find('"');
  while (first != std::string::npos && !opens_example(first)) first = s.find('"', first + 1);
  Gloss g;
  std::string def = first == std::string::npos ? s : s.substr(0, first);
  def = trim(def);
  while (!def.empty() && (def.back() == ';' || def.back() == ' ')) def.pop_back();
  g.definition = def;
  size_t q = first;
  while (q != std::string::npos) {
    size_t close = s.find('"', q + 1);
    std::string ex = trim(s.substr(q + 1, close == std::string::npos ? std::string::npos : close - q - 1));
    if (!ex.empty()) g.examples.push_back(ex);
    if (close == std::string::npos) break;
    // Whatever follows the closing quote up to the next example (an attribution such
    // as ` - Shakespeare`) is not part of the example.
    q = s.find('"', close + 1);
    while (q != std::string::npos && !opens_example(q)) q = s.find('"', q + 1);
  }
  return g;
}

std::string lemma_text(const std::string& word) {
  std::string out = word;
  for (char& c : out)
    if (c == '_') c = ' ';
  return out;
}

std::string pointer_name(const std::string& symbol, char pos) {
  const char p = file_letter(pos);
  static const std::map<std::string, std::string> common = {
      {"!", "antonym"},
      {"@", "hypernym"},
      {"@i", "instance hypernym"},
      {"~", "hyponym"},
      {"~i", "instance hyponym"},
      {"#m", "member holonym"},
      {"#s", "substance holonym"},
      {"#p", "part holonym"},
      {"%m", "member meronym"},
      {"%s", "substance meronym"},
      {"%p", "part meronym"},
      {"=", "attribute"},
      {"+", "derivationally related form"},
      {";c", "domain of synset - topic"},
      {"-c", "member of this domain - topic"},
      {";r", "domain of synset - region"},
      {"-r", "member of this domain - region"},
      {";u", "domain of synset - usage"},
      {"-u", "member of this domain - usage"},
      {"*", "entailment"},
      {">", "cause"},
      {"^", "also see"},
      {"$", "verb group"},
      {"&", "similar to"},
      {"<", "participle of verb"},
  };
  if (symbol == "\\") return p == 'r' ? "derived from adjective" : "pertainym";
  auto it = common.find(symbol);
  return it == common.end() ? "" : it->second;
}

}  // namespace cotrain::data::wordnet
