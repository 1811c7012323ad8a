// Reading what a `cotrain` command printed: its last line that parses as a JSON object
// (commands print progress and logs before their one result line).
#pragma once
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace cotrain::testing {

inline nlohmann::json last_json_line(const std::string& output) {
  std::istringstream in(output);
  std::string line;
  nlohmann::json found;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) found = j;
  }
  return found;
}

}  // namespace cotrain::testing
