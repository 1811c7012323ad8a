#include "cotrain/tasks/unimo_paraphrases.h"

#include "cotrain/data/distant_text.h"

namespace cotrain::tasks {

double unknown_piece_fraction(const text::Tokenizer& tokenizer, const std::string& text) {
  const std::vector<int64_t> ids = tokenizer.encode(text);
  if (ids.empty()) return 1.0;
  const int64_t unk = tokenizer.specials().unk;
  int64_t unknown = 0;
  for (int64_t id : ids) unknown += id == unk ? 1 : 0;
  return static_cast<double>(unknown) / static_cast<double>(ids.size());
}

std::vector<std::string> usable_paraphrases(const text::Tokenizer& tokenizer, const std::string& caption,
                                            const std::vector<std::string>& paraphrases, double max_unknown,
                                            ParaphraseCounts& counts) {
  std::vector<std::string> kept;
  const std::string own = data::ascii_lower(caption);
  for (const auto& p : paraphrases) {
    ++counts.given;
    if (data::ascii_lower(p) == own) {
      ++counts.same;
    } else if (unknown_piece_fraction(tokenizer, p) > max_unknown) {
      ++counts.unknown;
    } else {
      ++counts.kept;
      kept.push_back(p);
    }
  }
  return kept;
}

}  // namespace cotrain::tasks
