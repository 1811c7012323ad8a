#include "cotrain/eval/report_html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "cotrain/eval/report_gallery.h"
#include "cotrain/eval/report_svg.h"

namespace cotrain::eval {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:6px 0} th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{border:1px solid #e4e4e4;background:#fff;font-size:11px}
svg.chart .title{font-size:13px;font-weight:600;fill:#333} svg.chart .plot-area{fill:#fcfcfc;stroke:#ccc}
svg.chart .grid{stroke:#eee} svg.chart .tick,svg.chart .axis-label,svg.chart .legend{fill:#555}
pre{background:#f7f7f7;border:1px solid #e4e4e4;padding:8px;font-size:12px;overflow:auto;max-height:420px}
.gallery-query{margin:6px 0 12px} .gallery-query p{margin:2px 0}
.hits{display:flex;flex-wrap:wrap;gap:6px} figure.hit{margin:0;padding:3px;border:2px solid #e4e4e4;width:92px;text-align:center;font-size:11px}
figure.hit.match{border-color:#59a14f;background:#eef7ec} figure.hit img{width:64px;height:64px;object-fit:contain;display:block;margin:0 auto}
figure.hit figcaption{overflow-wrap:anywhere} .score{color:#555} h3{font-size:15px;margin:16px 0 4px}
svg.projection .pair-link{stroke-opacity:0.7}
.swatch{display:inline-block;width:10px;height:10px;margin-right:5px} .muted{color:#777;font-size:12px}
)";

std::string fmt_value(double v) {
  if (!std::isfinite(v)) return "–";
  if (v != 0 && (std::abs(v) < 1e-3 || std::abs(v) >= 1e6)) return fmt::format("{:.3e}", v);
  return fmt::format("{:.4g}", v);
}

std::string fmt_duration(double s) {
  const long total = static_cast<long>(std::llround(s));
  if (total >= 3600) return fmt::format("{}h{:02}m{:02}s", total / 3600, (total / 60) % 60, total % 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{:.1f}s", s);
}

// Keys in page order: "loss" before "loss/...", then alphabetical within a section.
std::vector<std::string> ordered_keys(const std::vector<RunData>& runs, const std::string& section) {
  std::set<std::string> keys;
  for (const auto& r : runs)
    for (const auto& rec : r.records)
      for (const auto& [k, v] : rec.values)
        if (report_section(k) == section) keys.insert(k);
  std::vector<std::string> out(keys.begin(), keys.end());
  std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    const int ra = a == "loss" ? 0 : 1, rb = b == "loss" ? 0 : 1;
    if (ra != rb) return ra < rb;
    return a < b;
  });
  return out;
}

std::string chart_for(const std::vector<RunData>& runs, const std::string& key) {
  std::vector<ChartSeries> series;
  for (size_t i = 0; i < runs.size(); ++i) {
    ChartSeries s;
    s.name = runs[i].name;
    s.color = series_color(i);
    for (const auto& rec : runs[i].records) {
      auto it = rec.values.find(key);
      if (it == rec.values.end()) continue;
      s.x.push_back(rec.update);
      s.y.push_back(it->second);
    }
    if (!s.x.empty()) series.push_back(std::move(s));
  }
  ChartSpec spec;
  spec.title = chart_title(key);
  std::string svg = line_chart_svg(spec, series);
  return fmt::format("<figure class=\"metric\" data-key=\"{}\" style=\"margin:0\">\n{}</figure>\n", xml_escape(key), svg);
}

std::string summary_table(const std::vector<RunData>& runs) {
  std::string h = "<table class=\"summary\"><tr><th>run</th><th>folder</th><th>task</th><th>updates</th><th>samples</th>"
                  "<th>last loss</th><th>time</th><th>records</th><th>notes</th></tr>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& r = runs[i];
    double update = 0, samples = NAN, loss = NAN, elapsed = r.elapsed_seconds.value_or(NAN);
    if (!r.records.empty()) {
      const auto& last = r.records.back();
      update = last.update;
      if (auto it = last.values.find("samples"); it != last.values.end()) samples = it->second;
      if (auto it = last.values.find("loss"); it != last.values.end()) loss = it->second;
      if (auto it = last.values.find("elapsed_s"); it != last.values.end() && !r.elapsed_seconds) elapsed = it->second;
    }
    std::string notes;
    if (!r.events.empty()) notes += fmt::format("{} event(s) ", r.events.size());
    if (!r.skipped_lines.empty()) {
      notes += "skipped malformed lines:";
      for (size_t k = 0; k < r.skipped_lines.size() && k < 10; ++k) notes += fmt::format(" {}", r.skipped_lines[k]);
      if (r.skipped_lines.size() > 10) notes += fmt::format(" (+{} more)", r.skipped_lines.size() - 10);
    }
    if (r.checkpoint.empty()) notes += (notes.empty() ? "" : "; ") + std::string("no checkpoint");
    h += fmt::format(
        "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td>{}</td></tr>\n",
        series_color(i), xml_escape(r.name), xml_escape(r.dir), xml_escape(r.task.empty() ? "?" : r.task),
        fmt_value(update), fmt_value(samples), fmt_value(loss), std::isfinite(elapsed) ? fmt_duration(elapsed) : "–",
        r.records.size(), xml_escape(notes));
  }
  return h + "</table>\n";
}

std::string config_section(const std::vector<RunData>& runs) {
  std::string h = "<h2>Configuration</h2>\n";
  if (runs.size() > 1) {
    std::vector<std::map<std::string, std::string>> flat;
    std::set<std::string> keys;
    for (const auto& r : runs) {
      flat.push_back(flatten_yaml(r.config_yaml));
      for (const auto& [k, v] : flat.back()) keys.insert(k);
    }
    std::string rows;
    size_t differing = 0;
    for (const auto& k : keys) {
      std::set<std::string> values;
      for (const auto& f : flat) values.insert(f.count(k) ? f.at(k) : std::string("\x01(absent)"));
      if (values.size() < 2) continue;
      ++differing;
      rows += "<tr><td>" + xml_escape(k) + "</td>";
      for (const auto& f : flat) rows += "<td>" + (f.count(k) ? xml_escape(f.at(k)) : "<i>absent</i>") + "</td>";
      rows += "</tr>\n";
    }
    h += fmt::format("<p>{} key(s) differ between the runs.</p>\n", differing);
    if (differing) {
      h += "<table class=\"config-diff\"><tr><th>key</th>";
      for (const auto& r : runs) h += "<th>" + xml_escape(r.name) + "</th>";
      h += "</tr>\n" + rows + "</table>\n";
    }
  }
  for (const auto& r : runs) {
    h += fmt::format("<details{}><summary>config.yaml of {}</summary>\n<pre class=\"config\">{}</pre></details>\n",
                     runs.size() == 1 ? " open" : "", xml_escape(r.name),
                     r.config_yaml.empty() ? "(no config.yaml in the run folder)" : xml_escape(r.config_yaml));
  }
  return h;
}

std::string events_section(const std::vector<RunData>& runs) {
  size_t n = 0;
  for (const auto& r : runs) n += r.events.size();
  if (n == 0) return "";
  std::string h = "<h2>Events</h2>\n<table class=\"events\"><tr><th>run</th><th>line</th><th>event</th><th>record</th></tr>\n";
  for (const auto& r : runs)
    for (const auto& e : r.events)
      h += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
                       xml_escape(r.name), e.line, xml_escape(e.kind), xml_escape(e.text));
  return h + "</table>\n";
}

}  // namespace

std::string report_section(const std::string& key) {
  if (key == "update" || key == "samples" || key == "elapsed_s") return "";
  if (key == "loss" || starts_with(key, "loss/")) return "Losses";
  if (key == "lr" || key == "grad_norm") return "Optimisation";
  if (key == "samples_per_s" || key == "tokens_per_s") return "Throughput";
  for (const char* p : {"eval", "val", "dev", "test", "retrieval", "ir_", "tr_", "f1", "recall"})
    if (starts_with(key, p)) return "Evaluation";
  return "Other";
}

std::string chart_title(const std::string& key) {
  if (key == "loss") return "loss (total)";
  // Logged among the loss terms, but CMCL's log(1/temperature), not a loss.
  if (key == "loss/logit_scale") return "CMCL logit scale, log(1/τ)";
  if (starts_with(key, "loss/")) return "loss: " + key.substr(5);
  if (key == "lr") return "learning rate";
  if (key == "grad_norm") return "gradient norm (period mean, before clipping)";
  if (key == "samples_per_s") return "throughput: samples/s";
  if (key == "tokens_per_s") return "throughput: tokens/s";
  return key;
}

std::string build_report_html(const std::vector<RunData>& runs, const ReportOptions& options) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<title>" + xml_escape(options.title) + "</title>\n<style>" + kStyle + "</style></head>\n<body>\n";
  h += "<h1>" + xml_escape(options.title) + "</h1>\n";
  h += fmt::format("<p class=\"muted\">{} run(s); curves are means over each display period, plotted against the "
                   "update number.</p>\n",
                   runs.size());
  h += "<h2>Runs</h2>\n" + summary_table(runs);
  for (const char* section : {"Losses", "Optimisation", "Throughput", "Evaluation", "Other"}) {
    const auto keys = ordered_keys(runs, section);
    if (keys.empty()) continue;
    h += fmt::format("<h2>{}</h2>\n<div class=\"charts\" data-section=\"{}\">\n", section, section);
    for (const auto& k : keys) h += chart_for(runs, k);
    h += "</div>\n";
  }
  std::vector<std::string> names;
  std::vector<const RunGallery*> galleries;
  for (const auto& r : runs) {
    names.push_back(r.name);
    galleries.push_back(r.gallery ? &*r.gallery : nullptr);
  }
  h += gallery_sections(names, galleries);
  h += events_section(runs);
  h += config_section(runs);
  if (!options.generated.empty())
    h += "<p class=\"muted\">written by cotrain report, " + xml_escape(options.generated) + "</p>\n";
  h += "</body></html>\n";
  return h;
}

}  // namespace cotrain::eval
