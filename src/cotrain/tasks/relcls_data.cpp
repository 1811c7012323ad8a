#include "cotrain/tasks/relcls_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"

namespace cotrain::tasks {

namespace {

// The first problem of a parsed line, or "".
std::string parse_line(const nlohmann::json& j, RelclsRaw& out) {
  if (!j.is_object()) return "not a JSON object";
  if (!j.contains("tokens") || !j.at("tokens").is_array() || j.at("tokens").empty()) return "'tokens' must be a non-empty list";
  for (const auto& w : j.at("tokens")) {
    if (!w.is_string()) return "'tokens' must hold strings";
    out.tokens.push_back(w.get<std::string>());
  }
  const auto n = static_cast<int64_t>(out.tokens.size());
  for (const char* key : {"h", "t"}) {
    if (!j.contains(key) || !j.at(key).is_object() || !j.at(key).contains("pos")) return fmt::format("'{}' must be {{\"pos\": [begin, end]}}", key);
    const auto& pos = j.at(key).at("pos");
    if (!pos.is_array() || pos.size() != 2 || !pos[0].is_number_integer() || !pos[1].is_number_integer())
      return fmt::format("'{}.pos' must be [begin, end]", key);
    const int64_t b = pos[0].get<int64_t>(), e = pos[1].get<int64_t>();
    if (b < 0 || e <= b || e > n) return fmt::format("'{}.pos' [{}, {}) is outside the {} tokens", key, b, e, n);
    (key[0] == 'h' ? out.h : out.t) = {b, e};
  }
  if (!j.contains("relation") || !j.at("relation").is_string() || j.at("relation").get<std::string>().empty())
    return "'relation' must be a non-empty string";
  out.relation = j.at("relation").get<std::string>();
  return "";
}

}  // namespace

std::vector<RelclsRaw> read_relcls_jsonl(const std::string& path, data::OnBadRecord on_bad_record) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open", path);
  std::vector<RelclsRaw> out;
  std::string line;
  int64_t number = 0, skipped = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    RelclsRaw raw;
    const std::string why = j.is_discarded() ? "not valid JSON" : parse_line(j, raw);
    if (why.empty()) {
      out.push_back(std::move(raw));
    } else if (on_bad_record == data::OnBadRecord::fail) {
      fail("{}: line {}: {}", path, number, why);
    } else {
      if (skipped++ < 5) log::warn("{}: line {}: {} (skipped)", path, number, why);
    }
  }
  if (skipped) log::warn("{}: {} bad lines skipped", path, skipped);
  if (out.empty()) fail("{}: no example", path);
  return out;
}

std::vector<std::string> relcls_classes(const std::vector<RelclsRaw>& train) {
  std::set<std::string> s;
  for (const auto& r : train) s.insert(r.relation);
  return {s.begin(), s.end()};
}

RelclsExample prepare_relcls_example(const RelclsRaw& raw, const text::Tokenizer& tokenizer, int64_t max_length,
                                     const std::vector<std::string>& classes) {
  RelclsExample ex;
  const auto& sp = tokenizer.specials();
  const auto words = tokenizer.encode_words(raw.tokens);
  std::vector<int64_t> start(words.size() + 1, 0);
  ex.ids.push_back(sp.cls);
  for (size_t w = 0; w < words.size(); ++w) {
    start[w] = static_cast<int64_t>(ex.ids.size());
    ex.ids.insert(ex.ids.end(), words[w].begin(), words[w].end());
  }
  start[words.size()] = static_cast<int64_t>(ex.ids.size());
  const int64_t body = std::max<int64_t>(1, max_length - 1);  // room for [SEP]
  if (static_cast<int64_t>(ex.ids.size()) > body) ex.ids.resize(static_cast<size_t>(body));
  ex.ids.push_back(sp.sep);
  auto span = [&](std::pair<int64_t, int64_t> w) {
    return std::make_pair(start[static_cast<size_t>(w.first)], start[static_cast<size_t>(w.second)]);
  };
  ex.h = span(raw.h);
  ex.t = span(raw.t);
  // A span must keep at least one sub-word and end before the [SEP].
  const auto limit = static_cast<int64_t>(ex.ids.size()) - 1;
  ex.fits = ex.h.second > ex.h.first && ex.t.second > ex.t.first && ex.h.second <= limit && ex.t.second <= limit;
  auto it = std::lower_bound(classes.begin(), classes.end(), raw.relation);
  ex.label = it != classes.end() && *it == raw.relation ? static_cast<int64_t>(it - classes.begin()) : -1;
  return ex;
}

}  // namespace cotrain::tasks
