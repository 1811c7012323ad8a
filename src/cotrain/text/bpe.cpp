#include "cotrain/text/bpe.h"

#include <limits>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/text/gpt2_pretokenizer.h"
#include "cotrain/text/text_files.h"
#include "cotrain/text/utf8.h"

namespace cotrain::text {
namespace {

constexpr size_t kCacheLimit = 1 << 16;

// Appends `bytes` to `out`, with U+FFFD for every byte that does not start a valid
// UTF-8 sequence (decoded BPE output can end in the middle of a character).
void append_with_replacement(const std::string& bytes, std::string& out) {
  size_t i = 0;
  while (i < bytes.size()) {
    size_t bad = 0;
    if (is_valid_utf8(std::string_view(bytes).substr(i), &bad)) {
      out.append(bytes, i, std::string::npos);
      return;
    }
    out.append(bytes, i, bad);
    out += "\xEF\xBF\xBD";
    i += bad + 1;
  }
}

}  // namespace

const std::array<char32_t, 256>& bytes_to_unicode() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

BpeTokenizer::BpeTokenizer(std::unordered_map<std::string, int64_t> vocab,
                           std::vector<std::pair<std::string, std::string>> merges, const std::string& source)
    : ids_(std::move(vocab)), merges_(std::move(merges)) {
  int64_t max_id = -1;
  for (const auto& [token, id] : ids_) {
    if (id < 0) fail("{}: token \"{}\" has a negative id {}", source, token, id);
    max_id = std::max(max_id, id);
  }
  // Ids must be (nearly) dense; a stray huge id would make a huge table.
  if (max_id >= static_cast<int64_t>(2 * ids_.size() + 1024)) {
    fail("{}: id {} is far beyond the {} tokens of the vocabulary", source, max_id, ids_.size());
  }
  tokens_.assign(static_cast<size_t>(max_id + 1), std::string());
  std::vector<bool> seen(tokens_.size(), false);
  for (const auto& [token, id] : ids_) {
    if (seen[id]) fail("{}: id {} is given to both \"{}\" and \"{}\"", source, id, tokens_[id], token);
    seen[id] = true;
    tokens_[id] = token;
  }
  for (size_t rank = 0; rank < merges_.size(); ++rank) {
    merge_ranks_.emplace(merges_[rank].first + " " + merges_[rank].second, rank);  // first rank wins
  }
  const auto& table = bytes_to_unicode();
  for (int b = 0; b < 256; ++b) {
    append_utf8(table[b], byte_symbols_[b]);
    symbol_bytes_[table[b]] = static_cast<unsigned char>(b);
  }
  auto require = [&](const char* token) {
    int64_t id = token_to_id(token);
    if (id < 0) fail("{}: the BPE vocabulary has no {} token (needs <s> <pad> </s> <unk> <mask>)", source, token);
    return id;
  };
  specials_.cls = require("<s>");
  specials_.pad = require("<pad>");
  specials_.sep = require("</s>");
  specials_.unk = require("<unk>");
  specials_.mask = require("<mask>");
}

std::unique_ptr<BpeTokenizer> BpeTokenizer::from_files(const std::string& vocab_json, const std::string& merges_txt) {
  std::unordered_map<std::string, int64_t> vocab;
  {
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(read_text_file(vocab_json));
    } catch (const nlohmann::json::exception& e) {
      fail("{}: not valid JSON: {}", vocab_json, e.what());
    }
    if (!doc.is_object()) fail("{}: expected a JSON object {{\"token\": id, ...}}", vocab_json);
    for (const auto& [token, id] : doc.items()) {
      if (!id.is_number_integer()) fail("{}: token \"{}\": the id must be an integer", vocab_json, token);
      vocab.emplace(token, id.get<int64_t>());
    }
  }
  std::vector<std::pair<std::string, std::string>> merges;
  std::string contents = read_text_file(merges_txt);
  size_t line_begin = 0, line_number = 0;
  while (line_begin < contents.size()) {
    size_t line_end = contents.find('\n', line_begin);
    if (line_end == std::string::npos) line_end = contents.size();
    std::string line = contents.substr(line_begin, line_end - line_begin);
    line_begin = line_end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number == 1 && line.rfind("#version", 0) == 0) continue;
    if (line.empty()) continue;
    std::string context = merges_txt + ": line " + std::to_string(line_number);
    validate_utf8(line, context);
    size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string::npos) {
      fail("{}: expected two tokens separated by one space, got \"{}\"", context, line);
    }
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return std::make_unique<BpeTokenizer>(std::move(vocab), std::move(merges), vocab_json);
}

std::vector<BpeTokenizer::Symbol> BpeTokenizer::merge_word_uncached(const std::string& bytes) const {
  std::vector<std::string> parts;
  std::vector<size_t> lengths;
  parts.reserve(bytes.size());
  for (unsigned char b : bytes) {
    parts.push_back(byte_symbols_[b]);
    lengths.push_back(1);
  }
  std::string key;
  while (parts.size() > 1) {
    size_t best_rank = std::numeric_limits<size_t>::max();
    size_t best = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      key.assign(parts[i]).append(" ").append(parts[i + 1]);
      auto it = merge_ranks_.find(key);
      if (it != merge_ranks_.end() && it->second < best_rank) {
        best_rank = it->second;
        best = i;
      }
    }
    if (best_rank == std::numeric_limits<size_t>::max()) break;
    const std::string first = parts[best], second = parts[best + 1];
    std::vector<std::string> merged_parts;
    std::vector<size_t> merged_lengths;
    for (size_t i = 0; i < parts.size();) {
      if (i + 1 < parts.size() && parts[i] == first && parts[i + 1] == second) {
        merged_parts.push_back(first + second);
        merged_lengths.push_back(lengths[i] + lengths[i + 1]);
        i += 2;
      } else {
        merged_parts.push_back(std::move(parts[i]));
        merged_lengths.push_back(lengths[i]);
        i += 1;
      }
    }
    parts.swap(merged_parts);
    lengths.swap(merged_lengths);
  }
  std::vector<Symbol> symbols;
  symbols.reserve(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    int64_t id = token_to_id(parts[i]);
    symbols.push_back({id >= 0 ? id : specials_.unk, lengths[i]});
  }
  return symbols;
}

std::vector<BpeTokenizer::Symbol> BpeTokenizer::merge_word(const std::string& bytes) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(bytes);
    if (it != cache_.end()) return it->second;
  }
  std::vector<Symbol> symbols = merge_word_uncached(bytes);
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kCacheLimit) cache_.clear();
  cache_.emplace(bytes, symbols);
  return symbols;
}

std::vector<Piece> BpeTokenizer::encode_with_offsets(const std::string& text) const {
  std::vector<size_t> offsets;
  std::u32string cps = decode_utf8(text, &offsets);
  std::vector<Piece> pieces;
  for (const auto& [first, last] : gpt2_pretokenize(cps)) {
    size_t begin = offsets[first];
    for (const Symbol& symbol : merge_word(text.substr(begin, offsets[last] - begin))) {
      pieces.push_back({symbol.id, begin, begin + symbol.bytes});
      begin += symbol.bytes;
    }
  }
  return pieces;
}

std::vector<int64_t> BpeTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const Piece& piece : encode_with_offsets(text)) ids.push_back(piece.id);
  return ids;
}

std::vector<std::string> BpeTokenizer::tokenize(const std::string& text) const {
  std::vector<std::string> out;
  for (const Piece& piece : encode_with_offsets(text)) out.push_back(tokens_[piece.id]);
  return out;
}

std::vector<std::vector<int64_t>> BpeTokenizer::encode_words(const std::vector<std::string>& words) const {
  std::vector<std::vector<int64_t>> out;
  out.reserve(words.size());
  for (size_t i = 0; i < words.size(); ++i) out.push_back(encode(i == 0 ? words[i] : " " + words[i]));
  return out;
}

std::string BpeTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string bytes;
  for (int64_t id : ids) {
    for (char32_t cp : decode_utf8(id_to_token(id))) {
      auto it = symbol_bytes_.find(cp);
      if (it != symbol_bytes_.end()) {
        bytes.push_back(static_cast<char>(it->second));
      } else {
        append_utf8(cp, bytes);  // not a byte symbol: keep the character itself
      }
    }
  }
  std::string out;
  append_with_replacement(bytes, out);
  return out;
}

std::string BpeTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) fail("token id {} is outside the vocabulary (size {})", id, vocab_size());
  return tokens_[static_cast<size_t>(id)];
}

int64_t BpeTokenizer::token_to_id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

bool BpeTokenizer::is_special(int64_t id) const {
  return id == specials_.pad || id == specials_.unk || id == specials_.cls || id == specials_.sep ||
         id == specials_.mask;
}

void BpeTokenizer::save(const std::string& dir) const {
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (size_t id = 0; id < tokens_.size(); ++id) {
    auto it = ids_.find(tokens_[id]);
    if (it != ids_.end() && it->second == static_cast<int64_t>(id)) vocab[tokens_[id]] = id;  // skips gaps
  }
  write_text_file(join_path(dir, "vocab.json"), vocab.dump() + "\n");
  std::string merges = "#version: 0.2\n";
  for (const auto& [a, b] : merges_) merges += a + " " + b + "\n";
  write_text_file(join_path(dir, "merges.txt"), merges);
}

}  // namespace cotrain::text
