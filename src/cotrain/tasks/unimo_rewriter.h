// Lexicon-driven caption rewriting: CMCL's phrase- and word-level hard negatives
// (unimo.md: "a red car" -> "a blue car", "a man riding a horse" -> "a man feeding a
// horse"). UNIMO parses captions into scene graphs; we swap words and phrases that a
// lexicon lists as interchangeable but different in meaning (object, attribute and
// relation nodes alike), which needs no parser and suits short captions.
//
// Lexicon files (resources/lexicons/*.txt, UTF-8): one group per line, members
// separated by '|', e.g. `red | blue | green`; '#' starts a comment; members may be
// phrases ("medium-dark skin tone"). Matching is case-insensitive (ASCII) on word
// boundaries, longest member first; the replacement keeps a leading capital.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cotrain/core/rng.h"

namespace cotrain::tasks {

class CaptionRewriter {
 public:
  // Adds every group of `path`; errors name the file and line (a group needs two
  // distinct members; a member must not be empty).
  void add_lexicon_file(const std::string& path);
  // Every *.txt in `dir`, in name order.
  void add_lexicon_dir(const std::string& dir);
  void add_group(std::vector<std::string> members, const std::string& origin = "group");

  struct Match {
    size_t begin = 0, end = 0;  // byte range in the caption
    size_t group = 0, member = 0;
  };
  // Non-overlapping matches, left to right, longest member first at each position.
  std::vector<Match> matches(const std::string& caption) const;
  // Up to `count` distinct rewrites, each differing from the caption in exactly one
  // matched word or phrase (drawn from `rng`). Fewer (or none) when the caption has
  // few matches.
  std::vector<std::string> rewrite(const std::string& caption, int64_t count, Rng& rng) const;

  size_t groups() const { return groups_.size(); }

 private:
  std::vector<std::vector<std::string>> groups_;        // as written
  std::vector<std::vector<std::string>> lower_groups_;  // ASCII-lowercased for matching
};

}  // namespace cotrain::tasks
