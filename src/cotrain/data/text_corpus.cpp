#include "cotrain/data/text_corpus.h"

#include <fstream>
#include <thread>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"

namespace cotrain::data {
namespace {

struct Line {
  std::string text;
  int64_t number;
};

}  // namespace

TextCorpus read_text_corpus(const std::vector<std::string>& files, const text::Tokenizer& tokenizer,
                            const TextCorpusOptions& options) {
  TextCorpus corpus;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("{}: cannot open corpus file", path);
    std::vector<Line> lines;
    std::string text;
    int64_t number = 0;
    while (std::getline(in, text)) {
      ++number;
      if (!text.empty() && text.back() == '\r') text.pop_back();
      if (text.find_first_not_of(" \t") == std::string::npos) {
        ++corpus.empty_lines;
        continue;
      }
      lines.push_back({std::move(text), number});
    }
    corpus.lines_read += number;

    // Tokenise in parallel stripes; results are stored by line so order is kept.
    std::vector<std::vector<int64_t>> ids(lines.size());
    std::vector<std::string> errors(lines.size());
    const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(options.threads, 16));
    auto work = [&](int64_t stripe) {
      for (size_t i = static_cast<size_t>(stripe); i < lines.size(); i += static_cast<size_t>(threads)) {
        try {
          ids[i] = tokenizer.encode(lines[i].text);
        } catch (const Error& e) {
          errors[i] = e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (int64_t s = 1; s < threads; ++s) pool.emplace_back(work, s);
    work(0);
    for (auto& th : pool) th.join();

    for (size_t i = 0; i < lines.size(); ++i) {
      if (!errors[i].empty()) {
        if (!options.skip_bad_records) fail("{}:{}: {}", path, lines[i].number, errors[i]);
        if (corpus.bad_lines < 5) log::warn("{}:{}: skipped: {}", path, lines[i].number, errors[i]);
        ++corpus.bad_lines;
        continue;
      }
      if (ids[i].empty()) continue;
      if (static_cast<int64_t>(ids[i].size()) > options.max_tokens) {
        ids[i].resize(static_cast<size_t>(options.max_tokens));
        ++corpus.truncated_lines;
      }
      corpus.tokens += static_cast<int64_t>(ids[i].size());
      corpus.sequences.push_back(std::move(ids[i]));
    }
  }
  if (corpus.bad_lines > 0) log::warn("skipped {} lines that were not valid text", corpus.bad_lines);
  if (corpus.sequences.empty()) fail("the corpus has no usable lines ({} read)", corpus.lines_read);
  return corpus;
}

}  // namespace cotrain::data
