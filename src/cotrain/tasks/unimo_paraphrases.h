// Which of a caption's paraphrases CMCL may use as positives. A paraphrase is only a
// positive if the model can read it: one that the vocabulary turns mostly into [UNK]
// (a label in a script the vocabulary lacks) says nothing about the image, and texts
// that all look alike in the same way are an easy target every image can move towards
// (examples/unimo-emoji/README.md). Plain C++ over the tokenizer; no LibTorch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cotrain/text/tokenizer.h"

namespace cotrain::tasks {

// Share of `text`'s word pieces that are the unknown token; 1 for a text without
// pieces (nothing to read).
double unknown_piece_fraction(const text::Tokenizer& tokenizer, const std::string& text);

struct ParaphraseCounts {
  int64_t given = 0;    // paraphrases in the data
  int64_t kept = 0;     // usable as positives
  int64_t unknown = 0;  // dropped: more than max_unknown of their pieces are [UNK] (or none at all)
  int64_t same = 0;     // dropped: the caption itself (ASCII case ignored)
};

// The paraphrases of `caption` that may be positives: at most `max_unknown` of their
// pieces unknown, and not the caption again. Order kept; `counts` accumulates.
std::vector<std::string> usable_paraphrases(const text::Tokenizer& tokenizer, const std::string& caption,
                                            const std::vector<std::string>& paraphrases, double max_unknown,
                                            ParaphraseCounts& counts);

}  // namespace cotrain::tasks
