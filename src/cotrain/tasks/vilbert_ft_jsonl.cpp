#include "cotrain/tasks/vilbert_ft_jsonl.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"

namespace cotrain::tasks {

namespace {
using json = nlohmann::json;

// Calls `each(record, line)` for every non-blank line parsed as a JSON object.
void for_each_record(const std::string& path, const std::function<void(const json&, std::int64_t)>& each) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json record = json::parse(line, nullptr, false);
    if (record.is_discarded()) fail("{}: line {}: not valid JSON", path, number);
    if (!record.is_object()) fail("{}: line {}: not a JSON object", path, number);
    each(record, number);
  }
  if (number == 0) fail("{}: empty", path);
}

std::string image_of(const json& r, const std::string& path, std::int64_t line) {
  if (!r.contains("image")) fail("{}: line {}: no 'image'", path, line);
  const json& v = r["image"];
  if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  fail("{}: line {}: 'image' must be a non-empty string or an integer id", path, line);
}

std::string text_of(const json& r, const char* key, const std::string& path, std::int64_t line) {
  if (!r.contains(key) || !r[key].is_string() || r[key].get<std::string>().empty())
    fail("{}: line {}: '{}' must be a non-empty string", path, line, key);
  return r[key].get<std::string>();
}
}  // namespace

std::vector<VqaRecord> read_vqa_jsonl(const std::string& path) {
  std::vector<VqaRecord> out;
  for_each_record(path, [&](const json& r, std::int64_t line) {
    VqaRecord rec;
    rec.line = line;
    rec.image = image_of(r, path, line);
    rec.question = text_of(r, "question", path, line);
    if (!r.contains("answers") || !r["answers"].is_object())
      fail("{}: line {}: 'answers' must be an object {{answer: score}}", path, line);
    for (const auto& [answer, score] : r["answers"].items()) {
      if (!score.is_number() || !std::isfinite(score.get<double>()) || score.get<double>() < 0 ||
          score.get<double>() > 1)
        fail("{}: line {}: answer '{}': the score must be a number in [0, 1]", path, line, answer);
      rec.answers.emplace_back(answer, score.get<double>());
    }
    out.push_back(std::move(rec));
  });
  return out;
}

std::vector<GroundingRecord> read_grounding_jsonl(const std::string& path) {
  std::vector<GroundingRecord> out;
  for_each_record(path, [&](const json& r, std::int64_t line) {
    GroundingRecord rec;
    rec.line = line;
    rec.image = image_of(r, path, line);
    rec.expression = text_of(r, "expression", path, line);
    if (!r.contains("box") || !r["box"].is_array() || r["box"].size() != 4)
      fail("{}: line {}: 'box' must be [x1, y1, x2, y2]", path, line);
    for (size_t i = 0; i < 4; ++i) {
      const json& v = r["box"][i];
      if (!v.is_number() || !std::isfinite(v.get<double>()))
        fail("{}: line {}: 'box' must hold 4 finite numbers", path, line);
      rec.box[i] = v.get<float>();
    }
    if (rec.box[2] < rec.box[0] || rec.box[3] < rec.box[1])
      fail("{}: line {}: 'box' needs x1 <= x2 and y1 <= y2", path, line);
    out.push_back(std::move(rec));
  });
  return out;
}

double box_iou(const float* a, const float* b) {
  const double w = std::max(0.0, static_cast<double>(std::min(a[2], b[2])) - std::max(a[0], b[0]));
  const double h = std::max(0.0, static_cast<double>(std::min(a[3], b[3])) - std::max(a[1], b[1]));
  const double inter = w * h;
  const double area_a = static_cast<double>(a[2] - a[0]) * (a[3] - a[1]);
  const double area_b = static_cast<double>(b[2] - b[0]) * (b[3] - b[1]);
  const double uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0.0;
}

}  // namespace cotrain::tasks
