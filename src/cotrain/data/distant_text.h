// The simple, documented rule `cotrain distant` uses to split raw text into
// sentences and words (and to split entity aliases into words, so that both sides
// of a match are split the same way):
//   words: split at ASCII whitespace; from each chunk, ASCII punctuation characters
//     at its start and at its end are split off one by one as words of their own
//     ("(dog)," -> "(", "dog", ")", ","); punctuation inside a chunk stays
//     ("don't", "well-known", "U.S" + ".").
//   sentences: a sentence ends after a run of '.', '!' or '?' words, together with
//     any closing ')', ']', '}', '"' or '\'' words right after it.
// Non-ASCII bytes are letters to this rule; text is not normalised.
#pragma once
#include <string>
#include <vector>

namespace cotrain::data {

std::vector<std::string> split_words(const std::string& text);
std::vector<std::vector<std::string>> split_sentences(const std::string& text);

// ASCII lower-casing (the builder's --ignore-case folds ASCII letters only).
std::string ascii_lower(std::string s);

}  // namespace cotrain::data
