// `cotrain nearest`: nearest neighbours by cosine similarity among the lines of an
// embeddings file written by `cotrain embed`.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.h"
#include "cotrain/core/error.h"

namespace cotrain::app {
namespace {

struct Embedded {
  std::string text;
  std::vector<float> unit;  // L2-normalised (after centering, when asked)
};

// Subtracts the mean embedding from every row. Encoder embeddings share a large
// common direction (all cosines near 1); removing it makes the neighbours reflect
// what distinguishes the lines.
void center(std::vector<Embedded>& rows) {
  std::vector<double> mean(rows.front().unit.size(), 0.0);
  for (const auto& r : rows)
    for (size_t d = 0; d < mean.size(); ++d) mean[d] += r.unit[d] / static_cast<double>(rows.size());
  for (auto& r : rows)
    for (size_t d = 0; d < mean.size(); ++d) r.unit[d] = static_cast<float>(r.unit[d] - mean[d]);
}

void normalise(std::vector<Embedded>& rows) {
  for (auto& r : rows) {
    double norm = 0;
    for (float x : r.unit) norm += static_cast<double>(x) * x;
    norm = std::sqrt(std::max(norm, 1e-24));
    for (float& x : r.unit) x = static_cast<float>(x / norm);
  }
}

std::vector<Embedded> read_embeddings(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open embeddings file", path);
  std::vector<Embedded> rows;
  std::string line;
  size_t number = 0, width = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    auto record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_discarded() || !record.contains("text") || !record.contains("embedding") ||
        !record["embedding"].is_array())
      fail("{}:{}: expected {{\"text\": ..., \"embedding\": [...]}}", path, number);
    Embedded e;
    e.text = record["text"].get<std::string>();
    for (const auto& v : record["embedding"]) {
      if (!v.is_number()) fail("{}:{}: embedding must hold numbers", path, number);
      e.unit.push_back(v.get<float>());
    }
    if (width == 0) width = e.unit.size();
    if (e.unit.size() != width || width == 0)
      fail("{}:{}: embedding has {} values, earlier lines {}", path, number, e.unit.size(), width);
    rows.push_back(std::move(e));
  }
  if (rows.empty()) fail("{}: no embeddings", path);
  return rows;
}

Runner setup(CLI::App& cmd) {
  auto path = std::make_shared<std::string>();
  auto queries = std::make_shared<std::vector<std::string>>();
  auto k = std::make_shared<int64_t>(5);
  auto centered = std::make_shared<bool>(false);
  cmd.add_option("--embeddings", *path, "JSON lines from 'cotrain embed'")->required();
  cmd.add_option("--query", *queries, "text of a line in the file (repeatable); default: every line");
  cmd.add_option("--k", *k, "neighbours per query")->default_val(5)->check(CLI::PositiveNumber);
  cmd.add_flag("--center", *centered, "subtract the mean embedding of the file before comparing");
  cmd.footer("Example:\n  cotrain embed --model runs/x --input words.txt --out words.jsonl\n"
             "  cotrain nearest --embeddings words.jsonl --query dog --query river");
  return [path, queries, k, centered] {
    std::vector<Embedded> rows = read_embeddings(*path);
    if (*centered) center(rows);
    normalise(rows);
    std::vector<size_t> picked;
    if (queries->empty()) {
      for (size_t i = 0; i < rows.size(); ++i) picked.push_back(i);
    } else {
      for (const auto& q : *queries) {
        auto it = std::find_if(rows.begin(), rows.end(), [&](const Embedded& e) { return e.text == q; });
        if (it == rows.end()) fail("{}: no line with text '{}'", *path, q);
        picked.push_back(static_cast<size_t>(it - rows.begin()));
      }
    }
    for (size_t qi : picked) {
      std::vector<std::pair<float, size_t>> scored;
      for (size_t j = 0; j < rows.size(); ++j) {
        if (j == qi) continue;
        float dot = 0;
        for (size_t d = 0; d < rows[qi].unit.size(); ++d) dot += rows[qi].unit[d] * rows[j].unit[d];
        scored.emplace_back(dot, j);
      }
      const size_t n = std::min<size_t>(static_cast<size_t>(*k), scored.size());
      std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(n), scored.end(),
                        [](const auto& a, const auto& b) { return a.first > b.first; });
      std::string line = fmt::format("{:<14}", rows[qi].text);
      for (size_t r = 0; r < n; ++r) line += fmt::format("  {} ({:.2f})", rows[scored[r].second].text, scored[r].first);
      std::cout << line << "\n";
    }
    return 0;
  };
}

Registration reg("nearest", "nearest neighbours (cosine) among embedded lines", setup);

}  // namespace
}  // namespace cotrain::app
