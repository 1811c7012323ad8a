// WordPiece as BERT's: the basic tokenizer (basic_tokenizer.h), then greedy
// longest-match-first over the vocabulary with the "##" continuation prefix. A word
// longer than 100 characters (code points, after normalisation) or one that cannot
// be covered by vocabulary pieces becomes [UNK] as a whole.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cotrain/text/basic_tokenizer.h"
#include "cotrain/text/tokenizer.h"

namespace cotrain::text {

class WordPieceTokenizer : public Tokenizer {
 public:
  static constexpr size_t kMaxInputCharsPerWord = 100;

  // `tokens[i]` has id i. The five specials [PAD] [UNK] [CLS] [SEP] [MASK] must be
  // present; `source` names the vocabulary in error messages.
  WordPieceTokenizer(std::vector<std::string> tokens, bool lowercase, const std::string& source = "vocabulary");
  // vocab.txt: one token per line, id = line number (a trailing \r is removed).
  static std::unique_ptr<WordPieceTokenizer> from_file(const std::string& path, bool lowercase);

  std::vector<int64_t> encode(const std::string& text) const override;
  std::vector<Piece> encode_with_offsets(const std::string& text) const override;
  std::vector<std::string> tokenize(const std::string& text) const override;
  std::vector<std::vector<int64_t>> encode_words(const std::vector<std::string>& words) const override;
  // Tokens joined by spaces, "##" pieces glued to the previous one.
  std::string decode(const std::vector<int64_t>& ids) const override;
  std::string id_to_token(int64_t id) const override;
  int64_t token_to_id(const std::string& token) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(tokens_.size()); }
  const SpecialIds& specials() const override { return specials_; }
  bool is_special(int64_t id) const override;
  std::string kind() const override { return "wordpiece"; }
  void save(const std::string& dir) const override;

  bool lowercase() const { return basic_.lowercase(); }
  // Pieces of one normalised word, with ranges (the basic tokenizer's output).
  void encode_word(const BasicWord& word, std::vector<Piece>& out) const;

 private:
  BasicTokenizer basic_;
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  size_t max_token_bytes_ = 0;
  SpecialIds specials_;
};

}  // namespace cotrain::text
