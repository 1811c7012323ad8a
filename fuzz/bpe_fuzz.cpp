// Byte-level BPE tokenizer. First byte even: arbitrary text through a fixed
// vocabulary. Odd: the input is vocab.json, NUL, merges.txt, NUL, text.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cotrain/core/error.h"
#include "cotrain/text/bpe.h"
#include "fuzz_util.h"

namespace {

const cotrain::text::BpeTokenizer& fixed_vocabulary() {
  static const cotrain::text::BpeTokenizer tok = [] {
    std::unordered_map<std::string, int64_t> vocab = {{"<s>", 0}, {"<pad>", 1}, {"</s>", 2}, {"<unk>", 3},
                                                      {"<mask>", 4}};
    // Every byte symbol, then a few merges.
    for (int b = 0; b < 256; ++b) {
      std::string s;
      char32_t c = cotrain::text::bytes_to_unicode()[b];
      if (c < 0x80) {
        s += static_cast<char>(c);
      } else if (c < 0x800) {
        s += static_cast<char>(0xC0 | (c >> 6));
        s += static_cast<char>(0x80 | (c & 0x3F));
      }
      vocab.emplace(s, static_cast<int64_t>(vocab.size()));
    }
    std::vector<std::pair<std::string, std::string>> merges = {{"t", "h"}, {"th", "e"}, {"Ġ", "the"}, {"Ġ", "c"},
                                                               {"Ġc", "a"}, {"Ġca", "t"}, {"i", "n"}, {"in", "g"}};
    for (const auto& [a, b] : merges) vocab.emplace(a + b, static_cast<int64_t>(vocab.size()));
    return cotrain::text::BpeTokenizer(vocab, merges);
  }();
  return tok;
}

void exercise(const cotrain::text::BpeTokenizer& tok, const std::string& text) {
  const auto pieces = tok.encode_with_offsets(text);
  std::vector<int64_t> ids;
  for (const auto& p : pieces) {
    if (p.begin > p.end || p.end > text.size() || p.id < 0 || p.id >= tok.vocab_size()) __builtin_trap();
    ids.push_back(p.id);
  }
  if (tok.encode(text) != ids) __builtin_trap();
  (void)tok.tokenize(text);
  (void)tok.decode(ids);
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= text.size()) {
    size_t space = text.find(' ', start);
    if (space == std::string::npos) space = text.size();
    words.push_back(text.substr(start, space - start));
    start = space + 1;
  }
  (void)tok.encode_words(words);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  try {
    if ((data[0] & 1) == 0) {
      exercise(fixed_vocabulary(), std::string(reinterpret_cast<const char*>(data + 1), size - 1));
    } else {
      std::string vocab, rest, merges, text;
      cotrain::fuzz::split_at_nul(data + 1, size - 1, vocab, rest);
      cotrain::fuzz::split_at_nul(reinterpret_cast<const uint8_t*>(rest.data()), rest.size(), merges, text);
      const std::string vocab_path =
          cotrain::fuzz::write_scratch("vocab.json", reinterpret_cast<const uint8_t*>(vocab.data()), vocab.size());
      const std::string merges_path =
          cotrain::fuzz::write_scratch("merges.txt", reinterpret_cast<const uint8_t*>(merges.data()), merges.size());
      auto tok = cotrain::text::BpeTokenizer::from_files(vocab_path, merges_path);
      exercise(*tok, text.empty() ? std::string("the cat sings, 日本!") : text);
    }
  } catch (const cotrain::Error&) {
  }
  return 0;
}
