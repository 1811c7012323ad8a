#include "cotrain/eval/report_run.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/core/log.h"

namespace cotrain::eval {

namespace {

// Why `line` is not a usable record, or "" when it is; fills `record`/`event`.
std::string parse_line(const std::string& line, MetricsRecord& record, RunEvent& event, bool& is_event) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return "not valid JSON";
  if (!j.is_object()) return "not a JSON object";
  if (j.contains("event")) {
    is_event = true;
    event.kind = j["event"].is_string() ? j["event"].get<std::string>() : j["event"].dump();
    event.text = j.dump();
    return "";
  }
  is_event = false;
  auto update = j.find("update");
  if (update == j.end()) return "no \"update\" field";
  if (!update->is_number()) return "\"update\" is not a number";
  record.update = update->get<double>();
  if (!std::isfinite(record.update)) return "\"update\" is not finite";
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "update") continue;
    if (it->is_number()) record.values[it.key()] = it->get<double>();
    else if (it->is_null()) record.values[it.key()] = std::numeric_limits<double>::quiet_NaN();
    else if (it->is_boolean()) return "field \"" + it.key() + "\" is a boolean, not a number";
    // strings, arrays and objects: descriptive fields, not plotted
  }
  return "";
}

}  // namespace

void parse_metrics_jsonl(const std::string& text, const std::string& path, BadLine on_bad, RunData& run) {
  size_t start = 0;
  int64_t number = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    MetricsRecord record;
    RunEvent event;
    bool is_event = false;
    const std::string why = parse_line(line, record, event, is_event);
    if (!why.empty()) {
      if (on_bad == BadLine::fail) fail("{}: line {}: {}", path, number, why);
      log::warn("{}: line {}: {} (skipped)", path, number, why);
      run.skipped_lines.push_back(number);
      continue;
    }
    if (is_event) {
      event.line = number;
      run.events.push_back(std::move(event));
    } else {
      record.line = number;
      run.records.push_back(std::move(record));
    }
  }
}

RunData read_run(const std::string& dir, BadLine on_bad) {
  RunData run;
  run.dir = dir;
  run.name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (run.name.empty() || run.name == ".") run.name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  if (!is_directory(dir)) fail("{}: not a folder (give run folders written by 'cotrain pretrain')", dir);
  const std::string metrics = join_path(dir, "metrics.jsonl");
  if (!is_regular_file(metrics)) fail("{}: no metrics.jsonl (is this a run folder?)", dir);
  parse_metrics_jsonl(read_whole_file(metrics), metrics, on_bad, run);
  const std::string config = join_path(dir, "config.yaml");
  if (is_regular_file(config)) run.config_yaml = read_whole_file(config);
  // `latest` names the newest complete checkpoint (train/checkpoint.h).
  const std::string latest = join_path(dir, "latest");
  if (is_regular_file(latest)) {
    std::string name = read_whole_file(latest);
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r' || name.back() == ' ')) name.pop_back();
    std::string folder = join_path(dir, name);
    if (!is_directory(folder)) folder = join_path(join_path(dir, "checkpoints"), name);
    const std::string progress = join_path(folder, "progress.json");
    if (!name.empty() && name.find("..") == std::string::npos && is_regular_file(progress)) {
      run.checkpoint = folder;
      nlohmann::json p = nlohmann::json::parse(read_whole_file(progress), nullptr, false);
      if (p.is_object()) {
        if (p.contains("task") && p["task"].is_string()) run.task = p["task"].get<std::string>();
        if (p.contains("elapsed_seconds") && p["elapsed_seconds"].is_number())
          run.elapsed_seconds = p["elapsed_seconds"].get<double>();
      }
    }
  }
  return run;
}

std::vector<RunData> read_runs(const std::vector<std::string>& dirs, BadLine on_bad) {
  std::vector<RunData> runs;
  for (const auto& d : dirs) runs.push_back(read_run(d, on_bad));
  // Same folder name in different places: prepend parents until the names differ.
  for (int depth = 1; depth < 8; ++depth) {
    bool clash = false;
    for (size_t i = 0; i < runs.size(); ++i)
      for (size_t k = i + 1; k < runs.size(); ++k)
        if (runs[i].name == runs[k].name) clash = true;
    if (!clash) break;
    for (auto& r : runs) {
      std::filesystem::path p = std::filesystem::path(r.dir).lexically_normal();
      if (p.filename().empty()) p = p.parent_path();
      std::vector<std::string> parts;
      for (const auto& part : p) parts.push_back(part.string());
      std::string name;
      const size_t first = parts.size() > static_cast<size_t>(depth) ? parts.size() - static_cast<size_t>(depth) - 1 : 0;
      for (size_t i = first; i < parts.size(); ++i) name += (name.empty() || name == "/" ? "" : "/") + parts[i];
      r.name = name;
    }
  }
  for (size_t i = 0; i < runs.size(); ++i)
    for (size_t k = i + 1; k < runs.size(); ++k)
      if (runs[i].name == runs[k].name) runs[k].name += " (" + std::to_string(k + 1) + ")";
  return runs;
}

namespace {
void flatten(const YAML::Node& node, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      flatten(kv.second, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (node.IsSequence()) {
    std::string s = "[";
    for (size_t i = 0; i < node.size(); ++i) {
      if (i) s += ", ";
      s += node[i].IsScalar() ? node[i].Scalar() : YAML::Dump(node[i]);
    }
    out[prefix] = s + "]";
  } else if (node.IsScalar()) {
    out[prefix] = node.Scalar();
  } else {
    out[prefix] = "";
  }
}
}  // namespace

std::map<std::string, std::string> flatten_yaml(const std::string& yaml_text) {
  std::map<std::string, std::string> out;
  try {
    flatten(YAML::Load(yaml_text), "", out);
  } catch (const YAML::Exception& e) {
    out.clear();
    out["(unreadable)"] = e.what();
  }
  return out;
}

}  // namespace cotrain::eval
