// WordPiece tokenizer. First byte even: arbitrary text through a fixed vocabulary
// (encode with offsets, words, decode). Odd: the input is a vocab.txt (up to the
// first NUL) and a text after it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cotrain/core/error.h"
#include "cotrain/text/wordpiece.h"
#include "fuzz_util.h"

namespace {

const cotrain::text::WordPieceTokenizer& fixed_vocabulary(bool lowercase) {
  static const std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "##s",
                                                  "##ing", "run", "ca", "##t", "é", "##é", "日", "本", ",", ".",
                                                  "naïve", "##ly"};
  static const cotrain::text::WordPieceTokenizer cased(tokens, false), uncased(tokens, true);
  return lowercase ? uncased : cased;
}

void exercise(const cotrain::text::WordPieceTokenizer& tok, const std::string& text) {
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
  const bool lowercase = data[0] & 2;
  try {
    if ((data[0] & 1) == 0) {
      exercise(fixed_vocabulary(lowercase), std::string(reinterpret_cast<const char*>(data + 1), size - 1));
    } else {
      std::string vocab, text;
      cotrain::fuzz::split_at_nul(data + 1, size - 1, vocab, text);
      const std::string path =
          cotrain::fuzz::write_scratch("vocab.txt", reinterpret_cast<const uint8_t*>(vocab.data()), vocab.size());
      auto tok = cotrain::text::WordPieceTokenizer::from_file(path, lowercase);
      exercise(*tok, text.empty() ? std::string("the cats running naïvely, 日本.") : text);
    }
  } catch (const cotrain::Error&) {
  }
  return 0;
}
