// GPT-2's pre-tokenization, by hand instead of a regex library. The pattern is
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// with \p{L} and \p{N} the Unicode letter and number categories and \s the
// Unicode White_Space property (as in the `regex` module GPT-2 used and in Hugging
// Face's tokenizers). The contractions are lowercase and use the ASCII apostrophe.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace cotrain::text {

// The pre-tokens of `text` as [begin, end) indices into it; they cover it exactly.
std::vector<std::pair<size_t, size_t>> gpt2_pretokenize(const std::u32string& text);

}  // namespace cotrain::text
