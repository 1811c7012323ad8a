// The tokenizer interface shared by WordPiece (BERT) and byte-level BPE (RoBERTa).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cotrain::text {

// One sub-word piece with the byte range of the input text it came from, so that
// word-level annotations (entity mentions) can be mapped onto sub-words exactly.
struct Piece {
  int64_t id = 0;
  size_t begin = 0;  // byte offset in the input (inclusive)
  size_t end = 0;    // byte offset in the input (exclusive)
};

struct SpecialIds {
  int64_t pad = 0, unk = 0, cls = 0, sep = 0, mask = 0;  // RoBERTa: <pad> <unk> <s> </s> <mask>
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Sub-word ids of `text`, without special tokens. Invalid UTF-8 is a cotrain::Error.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  // Same with byte offsets.
  virtual std::vector<Piece> encode_with_offsets(const std::string& text) const = 0;
  // Sub-word strings as in the vocabulary ("##ing", "Ġthe").
  virtual std::vector<std::string> tokenize(const std::string& text) const = 0;
  // Ids of a text that is already split into words (each word tokenised on its own;
  // for BPE every word but the first gets its leading space).
  virtual std::vector<std::vector<int64_t>> encode_words(const std::vector<std::string>& words) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual std::string id_to_token(int64_t id) const = 0;
  virtual int64_t token_to_id(const std::string& token) const = 0;  // -1 if absent
  virtual int64_t vocab_size() const = 0;
  virtual const SpecialIds& specials() const = 0;
  virtual bool is_special(int64_t id) const = 0;
  virtual std::string kind() const = 0;  // "wordpiece" | "bpe"
  // Writes the vocabulary files (vocab.txt, or vocab.json + merges.txt) into `dir`.
  virtual void save(const std::string& dir) const = 0;
};

// Loads from a path: a vocab.txt file, or a folder holding vocab.txt or
// vocab.json + merges.txt. `lowercase` applies to WordPiece only.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path, bool lowercase);

}  // namespace cotrain::text
