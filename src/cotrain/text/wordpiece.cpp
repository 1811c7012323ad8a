#include "cotrain/text/wordpiece.h"

#include <algorithm>

#include "cotrain/core/error.h"
#include "cotrain/text/text_files.h"
#include "cotrain/text/utf8.h"

namespace cotrain::text {

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> tokens, bool lowercase, const std::string& source)
    : basic_(lowercase), tokens_(std::move(tokens)) {
  ids_.reserve(tokens_.size() * 2);
  for (size_t i = 0; i < tokens_.size(); ++i) {
    // As BERT's load_vocab: a token listed twice maps to its last line.
    ids_[tokens_[i]] = static_cast<int64_t>(i);
    max_token_bytes_ = std::max(max_token_bytes_, tokens_[i].size());
  }
  auto require = [&](const char* token) {
    int64_t id = token_to_id(token);
    if (id < 0) fail("{}: the WordPiece vocabulary has no {} token (needs [PAD] [UNK] [CLS] [SEP] [MASK])", source, token);
    return id;
  };
  specials_.pad = require("[PAD]");
  specials_.unk = require("[UNK]");
  specials_.cls = require("[CLS]");
  specials_.sep = require("[SEP]");
  specials_.mask = require("[MASK]");
}

std::unique_ptr<WordPieceTokenizer> WordPieceTokenizer::from_file(const std::string& path, bool lowercase) {
  std::string contents = read_text_file(path);
  std::vector<std::string> tokens;
  size_t line_begin = 0;
  size_t line_number = 1;
  while (line_begin < contents.size()) {
    size_t line_end = contents.find('\n', line_begin);
    if (line_end == std::string::npos) line_end = contents.size();
    std::string token = contents.substr(line_begin, line_end - line_begin);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    validate_utf8(token, path + ": line " + std::to_string(line_number));
    tokens.push_back(std::move(token));
    line_begin = line_end + 1;
    ++line_number;
  }
  if (tokens.empty()) fail("{}: the vocabulary file is empty", path);
  return std::make_unique<WordPieceTokenizer>(std::move(tokens), lowercase, path);
}

void WordPieceTokenizer::encode_word(const BasicWord& word, std::vector<Piece>& out) const {
  const size_t n = word.chars.size();
  if (n == 0) return;
  if (n > kMaxInputCharsPerWord) {
    out.push_back({specials_.unk, word.range.begin, word.range.end});
    return;
  }
  // Byte offsets of each character inside the word's UTF-8 form, so that candidate
  // pieces are slices of it.
  std::string utf8;
  std::vector<size_t> char_offsets(n + 1);
  for (size_t i = 0; i < n; ++i) {
    char_offsets[i] = utf8.size();
    append_utf8(word.chars[i], utf8);
  }
  char_offsets[n] = utf8.size();

  const size_t first_piece = out.size();
  std::string candidate;
  size_t start = 0;
  while (start < n) {
    int64_t found = -1;
    size_t end = n;
    for (; end > start; --end) {
      size_t bytes = char_offsets[end] - char_offsets[start];
      size_t prefix = start > 0 ? 2 : 0;
      if (bytes + prefix > max_token_bytes_) continue;  // longer than any vocabulary entry
      candidate.assign(start > 0 ? "##" : "");
      candidate.append(utf8, char_offsets[start], bytes);
      auto it = ids_.find(candidate);
      if (it != ids_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {
      // No piece matches here: the whole word is [UNK].
      out.resize(first_piece);
      out.push_back({specials_.unk, word.range.begin, word.range.end});
      return;
    }
    Piece piece{found, word.spans[start].begin, word.spans[start].end};
    for (size_t k = start; k < end; ++k) {
      piece.begin = std::min<size_t>(piece.begin, word.spans[k].begin);
      piece.end = std::max<size_t>(piece.end, word.spans[k].end);
    }
    out.push_back(piece);
    start = end;
  }
}

std::vector<Piece> WordPieceTokenizer::encode_with_offsets(const std::string& text) const {
  std::vector<Piece> pieces;
  for (const BasicWord& word : basic_.split(text)) encode_word(word, pieces);
  return pieces;
}

std::vector<int64_t> WordPieceTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const Piece& piece : encode_with_offsets(text)) ids.push_back(piece.id);
  return ids;
}

std::vector<std::string> WordPieceTokenizer::tokenize(const std::string& text) const {
  std::vector<std::string> out;
  for (const Piece& piece : encode_with_offsets(text)) out.push_back(tokens_[piece.id]);
  return out;
}

std::vector<std::vector<int64_t>> WordPieceTokenizer::encode_words(const std::vector<std::string>& words) const {
  std::vector<std::vector<int64_t>> out;
  out.reserve(words.size());
  for (const std::string& word : words) out.push_back(encode(word));
  return out;
}

std::string WordPieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) {
    const std::string token = id_to_token(id);
    if (!out.empty() && token.size() > 2 && token.compare(0, 2, "##") == 0) {
      out.append(token, 2, std::string::npos);
    } else {
      if (!out.empty()) out.push_back(' ');
      out += token;
    }
  }
  return out;
}

std::string WordPieceTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) fail("token id {} is outside the vocabulary (size {})", id, vocab_size());
  return tokens_[static_cast<size_t>(id)];
}

int64_t WordPieceTokenizer::token_to_id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

bool WordPieceTokenizer::is_special(int64_t id) const {
  return id == specials_.pad || id == specials_.unk || id == specials_.cls || id == specials_.sep ||
         id == specials_.mask;
}

void WordPieceTokenizer::save(const std::string& dir) const {
  std::string contents;
  for (const std::string& token : tokens_) {
    contents += token;
    contents += '\n';
  }
  write_text_file(join_path(dir, "vocab.txt"), contents);
}

}  // namespace cotrain::text
