// What `cotrain report` reads of a run folder (train/checkpoint.h describes the
// layout): metrics.jsonl (one JSON record per display period, plus event records such
// as {"event": "rollback", ...}), config.yaml, and the latest checkpoint's
// progress.json. No LibTorch: a report is built from files only.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cotrain/eval/report_gallery.h"

namespace cotrain::eval {

// One metrics record: its update and every numeric field. A field written as null
// (nlohmann's spelling of NaN/inf) is kept as NaN so that curves show a gap there.
struct MetricsRecord {
  int64_t line = 0;    // 1-based line in metrics.jsonl
  double update = 0;
  std::map<std::string, double> values;  // "loss", "loss/mlm", "lr", "grad_norm", ...
};

// A record with an "event" key (rollbacks and the like), kept verbatim.
struct RunEvent {
  int64_t line = 0;
  std::string kind;
  std::string text;  // the record's JSON
};

struct RunData {
  std::string dir;
  std::string name;          // what the page calls it (folder name, made unique)
  std::vector<MetricsRecord> records;
  std::vector<RunEvent> events;
  std::string config_yaml;   // empty when the folder has none
  std::string task;          // from the latest progress.json, when there is one
  std::string checkpoint;    // the latest checkpoint's folder, "" when none
  std::optional<double> elapsed_seconds;
  std::vector<int64_t> skipped_lines;  // malformed lines passed over (skip mode)
  // Vision-language runs, when `cotrain report --gallery-data` was given: filled by the
  // program (not read from the folder).
  std::optional<RunGallery> gallery;
};

enum class BadLine { fail, skip };

// Parses metrics.jsonl text. A line that is not a JSON object, lacks a numeric
// "update", or holds a non-numeric value where a number belongs (strings and nested
// objects are ignored) is a cotrain::Error "<path>: line N: why" with BadLine::fail,
// or recorded in skipped_lines with BadLine::skip. Blank lines are ignored.
void parse_metrics_jsonl(const std::string& text, const std::string& path, BadLine on_bad, RunData& run);

// Reads one run folder. A folder without metrics.jsonl is an error (it is not a run).
RunData read_run(const std::string& dir, BadLine on_bad);

// Reads several, naming them by folder name; equal names get their parent folder
// prepended until they differ.
std::vector<RunData> read_runs(const std::vector<std::string>& dirs, BadLine on_bad);

// Flattens a YAML document into "a.b.c" -> scalar text (sequences as "[x, y]").
// A document that is not valid YAML gives a single entry "(unreadable)" -> reason.
std::map<std::string, std::string> flatten_yaml(const std::string& yaml_text);

}  // namespace cotrain::eval
