// `cotrain report RUN_DIR [RUN_DIR...] --out report.html`: one self-contained HTML
// page (inline SVG charts, no network) comparing training runs.
#include <CLI/CLI.hpp>

#include <chrono>
#include <ctime>
#include <iostream>

#include "command.h"
#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/eval/report_html.h"
#include "cotrain/eval/report_run.h"

namespace cotrain::app {
namespace {

struct ReportArgs {
  std::vector<std::string> runs;
  std::string out, title = "cotrain report", on_bad_line = "fail";
};

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", &tm);
  return buffer;
}

Runner setup(CLI::App& cmd) {
  auto a = std::make_shared<ReportArgs>();
  cmd.add_option("runs", a->runs, "run folders (written by 'cotrain pretrain'); several are drawn on the same charts")
      ->required();
  cmd.add_option("--out", a->out, "HTML file to write")->required();
  cmd.add_option("--title", a->title, "page title")->capture_default_str();
  cmd.add_option("--on-bad-line", a->on_bad_line, "a malformed metrics.jsonl line: fail (name it) or skip (warn, "
                                                   "list it in the report)")
      ->check(CLI::IsMember({"fail", "skip"}))
      ->capture_default_str();
  cmd.footer("Charts: every loss term, learning rate, gradient norm, throughput, evaluation and other numeric\n"
             "fields of metrics.jsonl against the update; then rollback events and the configs (and the keys\n"
             "in which several runs differ). The page has no script and loads nothing from the network.");
  return [a] {
    auto runs = eval::read_runs(a->runs, a->on_bad_line == "skip" ? eval::BadLine::skip : eval::BadLine::fail);
    eval::ReportOptions options;
    options.title = a->title;
    options.generated = utc_now();
    write_file_atomically(a->out, eval::build_report_html(runs, options));
    size_t records = 0;
    for (const auto& r : runs) records += r.records.size();
    std::cout << "report: " << runs.size() << " run(s), " << records << " metrics records -> " << a->out << "\n";
    return 0;
  };
}

Registration reg("report", "HTML report of one or more runs: loss, lr, throughput, grad norm, metrics, config",
                 setup);

}  // namespace
}  // namespace cotrain::app
