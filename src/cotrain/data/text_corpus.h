// Plain-text corpora for masked language modelling: one example per non-empty line.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cotrain/text/tokenizer.h"

namespace cotrain::data {

struct TextCorpusOptions {
  int64_t max_tokens = 126;           // sub-words kept per line (specials excluded)
  bool skip_bad_records = false;      // --on-bad-record skip: count and go on
  int64_t threads = 1;
};

struct TextCorpus {
  std::vector<std::vector<int64_t>> sequences;  // sub-word ids per kept line
  int64_t lines_read = 0;
  int64_t empty_lines = 0;
  int64_t bad_lines = 0;        // skipped (invalid UTF-8) when skipping is on
  int64_t truncated_lines = 0;  // lines longer than max_tokens
  int64_t tokens = 0;
};

// Tokenises every line of every file. A line that is not valid UTF-8 is an error
// naming the file and line (or is skipped and counted with skip_bad_records).
TextCorpus read_text_corpus(const std::vector<std::string>& files, const text::Tokenizer& tokenizer,
                            const TextCorpusOptions& options);

}  // namespace cotrain::data
