#include "cotrain/text/bpe.h"

#include <functional>
#include <limits>
#include <queue>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/text/gpt2_pretokenizer.h"
#include "cotrain/text/text_files.h"
#include "cotrain/text/utf8.h"

namespace cotrain::text {
namespace {

constexpr size_t kCacheLimit = 1 << 16;
constexpr size_t kCacheMaxWordBytes = 256;  // longer pre-tokens are rare: not worth caching

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
  // GPT-2's rule: take the adjacent pair of lowest rank, merge all its occurrences
  // left to right, repeat. Done with a queue of (rank, position) so that a long
  // pre-token costs O(n log n), not O(n^2): all occurrences of one rank are merged
  // as a batch, in position order, before the pairs they create are queued.
  struct Node {
    std::string text;
    size_t bytes;
    int prev, next;
    bool alive;
  };
  const int n = static_cast<int>(bytes.size());
  std::vector<Node> nodes;
  nodes.reserve(n);
  for (int i = 0; i < n; ++i) {
    nodes.push_back({byte_symbols_[static_cast<unsigned char>(bytes[i])], 1, i - 1, i + 1 < n ? i + 1 : -1, true});
  }
  using Entry = std::pair<size_t, int>;  // (rank, position of the pair's left node)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  std::string key;
  auto rank_at = [&](int left) -> size_t {
    int right = nodes[left].next;
    if (right < 0) return std::numeric_limits<size_t>::max();
    key.assign(nodes[left].text).append(" ").append(nodes[right].text);
    auto it = merge_ranks_.find(key);
    return it == merge_ranks_.end() ? std::numeric_limits<size_t>::max() : it->second;
  };
  auto push = [&](int left) {
    if (left < 0 || !nodes[left].alive) return;
    size_t rank = rank_at(left);
    if (rank != std::numeric_limits<size_t>::max()) queue.emplace(rank, left);
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  std::vector<int> merged_at;
  while (!queue.empty()) {
    const size_t rank = queue.top().first;
    merged_at.clear();
    while (!queue.empty() && queue.top().first == rank) {
      int left = queue.top().second;
      queue.pop();
      // Stale if a merge consumed this node or changed its pair since it was queued.
      if (!nodes[left].alive || rank_at(left) != rank) continue;
      int right = nodes[left].next;
      nodes[left].text += nodes[right].text;
      nodes[left].bytes += nodes[right].bytes;
      nodes[right].alive = false;
      nodes[left].next = nodes[right].next;
      if (nodes[right].next >= 0) nodes[nodes[right].next].prev = left;
      merged_at.push_back(left);
    }
    for (int left : merged_at) {
      if (!nodes[left].alive) continue;
      push(nodes[left].prev);
      push(left);
    }
  }
  std::vector<Symbol> symbols;
  for (int i = 0; i >= 0 && i < n; i = nodes[i].next) {
    int64_t id = token_to_id(nodes[i].text);
    symbols.push_back({id >= 0 ? id : specials_.unk, nodes[i].bytes});
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
  if (bytes.size() > kCacheMaxWordBytes) return symbols;
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
