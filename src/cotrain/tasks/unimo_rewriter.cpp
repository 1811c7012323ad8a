#include "cotrain/tasks/unimo_rewriter.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>

#include "cotrain/core/error.h"

namespace cotrain::tasks {

namespace {
std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}
std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}
// A word character: ASCII letters and digits, and any byte of a multi-byte UTF-8
// character (so "café" is one word).
bool word_char(unsigned char c) { return std::isalnum(c) || c >= 0x80; }
}  // namespace

void CaptionRewriter::add_group(std::vector<std::string> members, const std::string& origin) {
  std::vector<std::string> kept, lower;
  std::set<std::string> seen;
  for (auto& m : members) {
    m = trim(m);
    if (m.empty()) fail("{}: empty member", origin);
    if (seen.insert(ascii_lower(m)).second) {
      kept.push_back(m);
      lower.push_back(ascii_lower(m));
    }
  }
  if (kept.size() < 2) fail("{}: a group needs at least two different members", origin);
  groups_.push_back(std::move(kept));
  lower_groups_.push_back(std::move(lower));
}

void CaptionRewriter::add_lexicon_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open lexicon", path);
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    if (trim(line).empty()) continue;
    std::vector<std::string> members;
    size_t start = 0;
    while (true) {
      const size_t bar = line.find('|', start);
      members.push_back(line.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    add_group(members, path + ": line " + std::to_string(number));
  }
}

void CaptionRewriter::add_lexicon_dir(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path().string());
  if (ec) fail("{}: cannot list lexicons: {}", dir, ec.message());
  std::sort(files.begin(), files.end());
  if (files.empty()) fail("{}: no lexicon files (*.txt)", dir);
  for (const auto& f : files) add_lexicon_file(f);
}

std::vector<CaptionRewriter::Match> CaptionRewriter::matches(const std::string& caption) const {
  const std::string lower = ascii_lower(caption);
  std::vector<Match> out;
  size_t i = 0;
  while (i < lower.size()) {
    const bool at_word_start = word_char(static_cast<unsigned char>(lower[i])) &&
                               (i == 0 || !word_char(static_cast<unsigned char>(lower[i - 1])));
    if (!at_word_start) {
      ++i;
      continue;
    }
    Match best;
    size_t best_len = 0;
    for (size_t g = 0; g < lower_groups_.size(); ++g)
      for (size_t m = 0; m < lower_groups_[g].size(); ++m) {
        const std::string& w = lower_groups_[g][m];
        if (w.size() <= best_len || lower.compare(i, w.size(), w) != 0) continue;
        const size_t end = i + w.size();
        if (end < lower.size() && word_char(static_cast<unsigned char>(lower[end])) &&
            word_char(static_cast<unsigned char>(w.back())))
          continue;
        best = {i, end, g, m};
        best_len = w.size();
      }
    if (best_len > 0) {
      out.push_back(best);
      i = best.end;
    } else {
      ++i;
    }
  }
  return out;
}

std::vector<std::string> CaptionRewriter::rewrite(const std::string& caption, int64_t count, Rng& rng) const {
  std::vector<std::string> out;
  if (count <= 0) return out;
  const std::vector<Match> found = matches(caption);
  if (found.empty()) return out;
  std::set<std::string> seen = {ascii_lower(caption)};
  for (int64_t attempt = 0; attempt < 8 * count && static_cast<int64_t>(out.size()) < count; ++attempt) {
    const Match& m = found[static_cast<size_t>(rng.below(static_cast<int64_t>(found.size())))];
    const auto& group = groups_[m.group];
    size_t pick = static_cast<size_t>(rng.below(static_cast<int64_t>(group.size()) - 1));
    if (pick >= m.member) ++pick;  // any member but the one in the caption
    std::string replacement = group[pick];
    const char first = caption[m.begin];
    if (first >= 'A' && first <= 'Z' && replacement[0] >= 'a' && replacement[0] <= 'z')
      replacement[0] = static_cast<char>(replacement[0] - 'a' + 'A');
    std::string text = caption.substr(0, m.begin) + replacement + caption.substr(m.end);
    if (seen.insert(ascii_lower(text)).second) out.push_back(std::move(text));
  }
  return out;
}

}  // namespace cotrain::tasks
