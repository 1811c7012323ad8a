// Reader for the WordNet 3.x database files data.noun, data.verb, data.adj and
// data.adv (the format of Princeton's wndb(5) manual page). One line per synset:
//
//   offset lex_filenum ss_type w_cnt(2 hex) {word lex_id(1 hex)}*w_cnt
//   p_cnt(3 dec) {symbol offset pos source/target(4 hex)}*p_cnt
//   [f_cnt(2 dec) {+ f_num w_num(2 hex)}*f_cnt]   (verbs only)
//   | gloss
//
// The files open with a license text whose lines start with two spaces; those are
// skipped. Any other line that does not parse is a cotrain::Error naming the file
// and the line number.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace cotrain::data::wordnet {

struct Lemma {
  std::string word;    // as written in the file: underscores for spaces ("take_a_breath")
  int lex_id = 0;      // distinguishes senses of the word within one lexicographer file
  std::string marker;  // adjectives only: syntactic marker "p", "a" or "ip", else empty
};

struct Pointer {
  std::string symbol;   // "@", "~", "#m", "%p", "!", "&", ";c", ...
  uint32_t offset = 0;  // target synset's byte offset in the target data file
  char pos = 'n';       // target's part of speech: n v a s r
  int source = 0;       // 0 = semantic pointer (synset to synset); else 1-based word
  int target = 0;       // number in this synset / the target synset (lexical pointer)
};

struct VerbFrame {
  int frame = 0;  // generic frame number (1..35)
  int word = 0;   // 0 = all words of the synset, else 1-based word number
};

struct Synset {
  uint32_t offset = 0;
  int lex_filenum = 0;
  char ss_type = 'n';  // n v a s r (s = adjective satellite, stored in data.adj)
  std::vector<Lemma> words;
  std::vector<Pointer> pointers;
  std::vector<VerbFrame> frames;
  std::string gloss;  // raw gloss text after "| ", trailing spaces removed
};

// Which data file a part of speech lives in: 's' (satellite) is in data.adj, so
// synsets are keyed by file letter ('n', 'v', 'a', 'r') and offset.
char file_letter(char pos);

// Parses one synset line. `file` and `line_no` only go into error messages.
Synset parse_synset_line(const std::string& line, const std::string& file, size_t line_no);

// Reads every synset of one data file (license header skipped).
std::vector<Synset> read_data_file(const std::string& path);

// All four data files of a dict folder, with lookup by (file letter, offset).
class Database {
 public:
  // Reads DIR/data.noun, data.verb, data.adj, data.adv (all four must exist).
  static Database load(const std::string& dict_dir);
  // Builds from synsets already parsed (tests); `file_letter(ss_type)` keys each.
  void add(Synset synset);

  const std::vector<Synset>& synsets() const { return synsets_; }
  // Index into synsets() of the synset a pointer with (pos, offset) names, or -1.
  int64_t find(char pos, uint32_t offset) const;

 private:
  static uint64_t key(char pos, uint32_t offset);
  std::vector<Synset> synsets_;
  std::unordered_map<uint64_t, int64_t> index_;
};

// A gloss split into its definition and its quoted example sentences:
//   `a domestic dog; "the dog barked all night"` -> "a domestic dog", {"the dog barked all night"}
struct Gloss {
  std::string definition;
  std::vector<std::string> examples;
};
Gloss split_gloss(const std::string& gloss);

// A lemma as running text: underscores become spaces ("take_a_breath" -> "take a breath").
std::string lemma_text(const std::string& word);

// Readable name of a pointer symbol for a synset of part of speech `pos`
// ("@" -> "hypernym", "#p" -> "part holonym", ";c" -> "domain of synset - topic").
// Some symbols mean different things by part of speech ("\\" is "pertainym" for
// adjectives, "derived from adjective" for adverbs). Unknown symbols return "".
std::string pointer_name(const std::string& symbol, char pos);

}  // namespace cotrain::data::wordnet
