// Byte-level BPE as GPT-2's and RoBERTa's (vocab.json + merges.txt): the text is
// pre-split with GPT-2's pattern (gpt2_pretokenizer.h); each pre-token's UTF-8 bytes
// are mapped to printable characters (bytes_to_unicode) and merged pair by pair,
// always the adjacent pair of lowest merge rank first, every occurrence of it left
// to right. Results per pre-token are cached. Special tokens are not recognised
// inside the text; callers add <s> </s> themselves.
#pragma once
#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cotrain/text/tokenizer.h"

namespace cotrain::text {

// GPT-2's reversible map from the 256 byte values to printable characters: printable
// Latin-1 bytes map to themselves, the others to U+0100 onwards in byte order.
const std::array<char32_t, 256>& bytes_to_unicode();

class BpeTokenizer : public Tokenizer {
 public:
  // `vocab` maps tokens to ids; `merges` in rank order. The five specials <s> <pad>
  // </s> <unk> <mask> must be in the vocabulary. `source` names it in errors.
  BpeTokenizer(std::unordered_map<std::string, int64_t> vocab, std::vector<std::pair<std::string, std::string>> merges,
               const std::string& source = "vocabulary");
  // vocab.json ({"token": id, ...}) and merges.txt ("a b" per line, rank = order,
  // an optional first line "#version: ...").
  static std::unique_ptr<BpeTokenizer> from_files(const std::string& vocab_json, const std::string& merges_txt);

  std::vector<int64_t> encode(const std::string& text) const override;
  std::vector<Piece> encode_with_offsets(const std::string& text) const override;
  std::vector<std::string> tokenize(const std::string& text) const override;
  std::vector<std::vector<int64_t>> encode_words(const std::vector<std::string>& words) const override;
  // Concatenated token bytes; byte sequences that are not UTF-8 come out as U+FFFD.
  std::string decode(const std::vector<int64_t>& ids) const override;
  std::string id_to_token(int64_t id) const override;
  int64_t token_to_id(const std::string& token) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(tokens_.size()); }
  const SpecialIds& specials() const override { return specials_; }
  bool is_special(int64_t id) const override;
  std::string kind() const override { return "bpe"; }
  void save(const std::string& dir) const override;

 private:
  // A merged symbol: its vocabulary id and how many input bytes it covers.
  struct Symbol {
    int64_t id;
    size_t bytes;
  };
  // The BPE symbols of one pre-token given as raw UTF-8 bytes.
  std::vector<Symbol> merge_word(const std::string& bytes) const;
  std::vector<Symbol> merge_word_uncached(const std::string& bytes) const;

  std::vector<std::string> tokens_;  // by id; "" for ids the vocabulary skips
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<std::pair<std::string, std::string>> merges_;
  std::unordered_map<std::string, size_t> merge_ranks_;  // "a b" -> rank
  std::array<std::string, 256> byte_symbols_;            // UTF-8 of bytes_to_unicode()[b]
  std::unordered_map<char32_t, unsigned char> symbol_bytes_;
  SpecialIds specials_;

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<Symbol>> cache_;
};

}  // namespace cotrain::text
