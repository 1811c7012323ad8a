#include "cotrain/data/distant_text.h"

namespace cotrain::data {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_punct(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 33 && u <= 47) || (u >= 58 && u <= 64) || (u >= 91 && u <= 96) || (u >= 123 && u <= 126);
}
bool is_terminal(const std::string& w) { return w == "." || w == "!" || w == "?"; }
bool is_closing(const std::string& w) { return w == ")" || w == "]" || w == "}" || w == "\"" || w == "'"; }

}  // namespace

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    size_t j = i;
    while (j < text.size() && !is_space(text[j])) ++j;
    if (j == i) break;
    size_t b = i, e = j;
    while (b < e && is_punct(text[b])) out.push_back(std::string(1, text[b++]));
    size_t tail = e;
    while (tail > b && is_punct(text[tail - 1])) --tail;
    if (tail > b) out.push_back(text.substr(b, tail - b));
    for (size_t k = tail; k < e; ++k) out.push_back(std::string(1, text[k]));
    i = j;
  }
  return out;
}

std::vector<std::vector<std::string>> split_sentences(const std::string& text) {
  const auto words = split_words(text);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> current;
  for (size_t i = 0; i < words.size(); ++i) {
    current.push_back(words[i]);
    if (!is_terminal(words[i])) continue;
    while (i + 1 < words.size() && is_terminal(words[i + 1])) current.push_back(words[++i]);
    while (i + 1 < words.size() && is_closing(words[i + 1])) current.push_back(words[++i]);
    out.push_back(std::move(current));
    current.clear();
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace cotrain::data
