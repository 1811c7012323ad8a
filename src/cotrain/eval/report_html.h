// The page `cotrain report` writes: one self-contained HTML file (inline CSS and
// SVG, no script, no network) comparing one or more runs: a summary table, loss
// curves per objective, learning rate, gradient norm, throughput, evaluation and
// other logged metrics over updates, for vision-language runs given a gallery a
// retrieval gallery and an embedding projection (report_gallery.h), rollback events,
// the configs and where they differ.
#pragma once
#include <string>
#include <vector>

#include "cotrain/eval/report_run.h"

namespace cotrain::eval {

struct ReportOptions {
  std::string title = "cotrain report";
  std::string generated;  // e.g. a UTC timestamp; shown in the footer when not empty
};

// Which section a metrics key belongs to, in page order: "Losses", "Optimisation",
// "Throughput", "Evaluation", "Other"; "" for keys not plotted (update, samples,
// elapsed_s).
std::string report_section(const std::string& key);

// Human title of a key's chart ("loss/mlm" -> "loss: mlm", "lr" -> "learning rate").
std::string chart_title(const std::string& key);

std::string build_report_html(const std::vector<RunData>& runs, const ReportOptions& options);

}  // namespace cotrain::eval
