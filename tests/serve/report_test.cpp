// `cotrain report`: the page built from synthetic run folders. Charts are checked
// point by point against the metrics (each polyline must be an exact linear image of
// the data, inside the plot area), malformed metrics lines are named by number, and
// the page renders in headless Chromium (screenshot kept in test-artifacts/).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include "cotrain/core/error.h"
#include "cotrain/eval/report_html.h"
#include "cotrain/eval/report_run.h"
#include "cotrain/eval/report_svg.h"
#include "serve/chromium.h"
#include "support/support.h"

using cotrain::testing::read_file;
using cotrain::testing::run_cotrain;
using cotrain::testing::scratch_dir;
using cotrain::testing::write_file;
namespace ev = cotrain::eval;

namespace {

struct Point {
  double x, y;
};

// A run folder as the trainer writes it: metrics.jsonl, config.yaml, latest, progress.json.
std::string write_run(const std::string& dir, const std::string& metrics, const std::string& lr = "0.0005") {
  write_file(dir + "/metrics.jsonl", metrics);
  write_file(dir + "/config.yaml", "trainer:\n  seed: 7\n  batch_size: 8\noptim:\n  lr: " + lr +
                                       "\n  betas: [0.9, 0.98]\nnote: \"<b>&\"\n");
  std::filesystem::create_directories(dir + "/checkpoints/update-0000040");
  write_file(dir + "/checkpoints/update-0000040/progress.json",
             R"({"update": 40, "elapsed_seconds": 75.5, "task": "unimo"})");
  write_file(dir + "/latest", "checkpoints/update-0000040\n");
  return dir;
}

// Records at updates 10..40 with distinct shapes per field.
std::string synthetic_metrics() {
  std::string m;
  const double loss[] = {9.5, 7.25, 6.0, 5.5}, mlm[] = {8.0, 6.5, 5.0, 4.75}, lr[] = {0.0001, 0.0005, 0.0004, 0.0002};
  for (int i = 0; i < 4; ++i) {
    m += "{\"update\": " + std::to_string(10 * (i + 1)) + ", \"samples\": " + std::to_string(80 * (i + 1)) +
         ", \"loss\": " + std::to_string(loss[i]) + ", \"loss/mlm\": " + std::to_string(mlm[i]) +
         ", \"lr\": " + std::to_string(lr[i]) + ", \"grad_norm\": " + std::to_string(1.5 + i) +
         ", \"samples_per_s\": " + std::to_string(100 + 10 * i) + ", \"tokens_per_s\": 2000, \"elapsed_s\": " +
         std::to_string(20 * (i + 1)) + (i % 2 ? ", \"eval/ir_r1\": " + std::to_string(0.1 * i) : std::string()) +
         "}\n";
    if (i == 1) m += "{\"event\": \"rollback\", \"update\": 21, \"to_update\": 20, \"reason\": \"loss spike\"}\n";
  }
  return m;
}

// The <figure> of one metric key.
std::string figure_of(const std::string& html, const std::string& key) {
  const std::string open = "<figure class=\"metric\" data-key=\"" + key + "\"";
  const size_t a = html.find(open);
  if (a == std::string::npos) return "";
  return html.substr(a, html.find("</figure>", a) - a);
}

// Points of every <polyline ... data-series="series" points="..."> in `svg`, one
// vector per polyline.
std::vector<std::vector<Point>> polylines(const std::string& svg, const std::string& series) {
  std::vector<std::vector<Point>> out;
  std::regex re("<polyline class=\"series\" data-series=\"" + series + "\"[^>]*points=\"([^\"]*)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it) {
    std::vector<Point> pts;
    std::string s = (*it)[1];
    std::regex pr("(-?[0-9.]+),(-?[0-9.]+)");
    for (std::sregex_iterator p(s.begin(), s.end(), pr), e; p != e; ++p)
      pts.push_back({std::stod((*p)[1]), std::stod((*p)[2])});
    out.push_back(pts);
  }
  return out;
}

struct Rect {
  double x, y, w, h;
};
Rect plot_area(const std::string& svg) {
  std::smatch m;
  std::regex re("<rect class=\"plot-area\" x=\"([0-9.]+)\" y=\"([0-9.]+)\" width=\"([0-9.]+)\" height=\"([0-9.]+)\"");
  EXPECT_TRUE(std::regex_search(svg, m, re));
  return {std::stod(m[1]), std::stod(m[2]), std::stod(m[3]), std::stod(m[4])};
}

// The pixels must be px = a*x + b (a > 0), py = c*y + d (c < 0: up is larger), to
// the 0.01 px the SVG is written with, and inside the plot area.
void expect_linear_image(const std::vector<Point>& px, const std::vector<Point>& data, const Rect& area) {
  ASSERT_EQ(px.size(), data.size());
  ASSERT_GE(px.size(), 2u);
  size_t i_min = 0, i_max = 0;  // two points with different y to fix the y map
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i].y < data[i_min].y) i_min = i;
    if (data[i].y > data[i_max].y) i_max = i;
  }
  const double a = (px.back().x - px.front().x) / (data.back().x - data.front().x);
  const double b = px.front().x - a * data.front().x;
  const double c = (px[i_max].y - px[i_min].y) / (data[i_max].y - data[i_min].y);
  const double d = px[i_min].y - c * data[i_min].y;
  EXPECT_GT(a, 0);
  EXPECT_LT(c, 0);
  for (size_t i = 0; i < px.size(); ++i) {
    EXPECT_NEAR(px[i].x, a * data[i].x + b, 0.011) << "point " << i;
    EXPECT_NEAR(px[i].y, c * data[i].y + d, 0.011) << "point " << i;
    EXPECT_GE(px[i].x, area.x - 0.01);
    EXPECT_LE(px[i].x, area.x + area.w + 0.01);
    EXPECT_GE(px[i].y, area.y - 0.01);
    EXPECT_LE(px[i].y, area.y + area.h + 0.01);
  }
}

std::string build(const std::vector<std::string>& dirs) {
  return ev::build_report_html(ev::read_runs(dirs, ev::BadLine::fail), ev::ReportOptions{});
}

}  // namespace

TEST(Report, PolylinesAreTheMetricsDrawnToScale) {
  const std::string run = write_run(scratch_dir("report-one") + "/run-a", synthetic_metrics());
  const std::string html = build({run});

  const std::string loss = figure_of(html, "loss");
  ASSERT_FALSE(loss.empty());
  auto lines = polylines(loss, "run-a");
  ASSERT_EQ(lines.size(), 1u);
  expect_linear_image(lines[0], {{10, 9.5}, {20, 7.25}, {30, 6.0}, {40, 5.5}}, plot_area(loss));

  const std::string mlm = figure_of(html, "loss/mlm");
  ASSERT_FALSE(mlm.empty());
  lines = polylines(mlm, "run-a");
  ASSERT_EQ(lines.size(), 1u);
  expect_linear_image(lines[0], {{10, 8.0}, {20, 6.5}, {30, 5.0}, {40, 4.75}}, plot_area(mlm));

  const std::string lr = figure_of(html, "lr");
  lines = polylines(lr, "run-a");
  ASSERT_EQ(lines.size(), 1u);
  expect_linear_image(lines[0], {{10, 0.0001}, {20, 0.0005}, {30, 0.0004}, {40, 0.0002}}, plot_area(lr));

  // Only the records holding the eval field are plotted.
  const std::string ir = figure_of(html, "eval/ir_r1");
  lines = polylines(ir, "run-a");
  ASSERT_EQ(lines.size(), 1u);
  expect_linear_image(lines[0], {{20, 0.1}, {40, 0.3}}, plot_area(ir));

  for (const char* key : {"grad_norm", "samples_per_s", "tokens_per_s"}) EXPECT_FALSE(figure_of(html, key).empty()) << key;
  // Counters are not charts.
  for (const char* key : {"update", "samples", "elapsed_s"}) EXPECT_TRUE(figure_of(html, key).empty()) << key;
  // Sections in page order.
  const size_t losses = html.find("<h2>Losses</h2>"), optim = html.find("<h2>Optimisation</h2>"),
               speed = html.find("<h2>Throughput</h2>"), evals = html.find("<h2>Evaluation</h2>");
  ASSERT_NE(evals, std::string::npos);
  EXPECT_LT(losses, optim);
  EXPECT_LT(optim, speed);
  EXPECT_LT(speed, evals);
  // Summary: task and time from progress.json, the last loss; the rollback event; the config, escaped.
  EXPECT_NE(html.find("<td>unimo</td>"), std::string::npos);
  EXPECT_NE(html.find("1m16s"), std::string::npos);  // 75.5 s
  EXPECT_NE(html.find("<td class=\"num\">5.5</td>"), std::string::npos);
  EXPECT_NE(html.find("loss spike"), std::string::npos);
  EXPECT_NE(html.find("note: &quot;&lt;b&gt;&amp;&quot;"), std::string::npos);
  EXPECT_EQ(html.find("<b>&"), std::string::npos);
  // Self-contained: no script, nothing fetched.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(Report, NullValuesBreakTheCurve) {
  const std::string run = write_run(scratch_dir("report-gap") + "/gap",
                                    "{\"update\": 1, \"loss\": 3}\n{\"update\": 2, \"loss\": 2}\n"
                                    "{\"update\": 3, \"loss\": null}\n{\"update\": 4, \"loss\": 1.5}\n"
                                    "{\"update\": 5, \"loss\": 1}\n");
  const std::string loss = figure_of(build({run}), "loss");
  auto lines = polylines(loss, "gap");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].size(), 2u);
  EXPECT_EQ(lines[1].size(), 2u);
  // Both stretches share one scale: the four points together are still a linear image.
  std::vector<Point> all = lines[0];
  all.insert(all.end(), lines[1].begin(), lines[1].end());
  expect_linear_image(all, {{1, 3}, {2, 2}, {4, 1.5}, {5, 1}}, plot_area(loss));
}

TEST(Report, SeveralRunsShareChartsAndTheirConfigDifferencesAreListed) {
  const std::string root = scratch_dir("report-two");
  const std::string a = write_run(root + "/x/run", synthetic_metrics(), "0.0005");
  const std::string b = write_run(root + "/y/run", "{\"update\": 10, \"loss\": 8}\n{\"update\": 20, \"loss\": 4}\n"
                                                   "{\"update\": 30, \"loss\": 3}\n", "0.001");
  const std::string html = build({a, b});
  // Same folder name: the parent names them apart.
  const std::string loss = figure_of(html, "loss");
  auto la = polylines(loss, "x/run"), lb = polylines(loss, "y/run");
  ASSERT_EQ(la.size(), 1u);
  ASSERT_EQ(lb.size(), 1u);
  // One scale for both runs: all seven points are one linear image.
  std::vector<Point> px = la[0], data = {{10, 9.5}, {20, 7.25}, {30, 6.0}, {40, 5.5}, {10, 8}, {20, 4}, {30, 3}};
  px.insert(px.end(), lb[0].begin(), lb[0].end());
  expect_linear_image(px, data, plot_area(loss));
  // The second run has no loss/mlm: that chart holds the first run only.
  const std::string mlm = figure_of(html, "loss/mlm");
  EXPECT_EQ(polylines(mlm, "x/run").size(), 1u);
  EXPECT_EQ(polylines(mlm, "y/run").size(), 0u);
  // Differences: optim.lr only.
  EXPECT_NE(html.find("<p>1 key(s) differ between the runs.</p>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>optim.lr</td><td>0.0005</td><td>0.001</td></tr>"), std::string::npos);
}

TEST(Report, MalformedMetricsLinesAreNamedByNumber) {
  struct Case {
    std::string text, expected;
  };
  const std::vector<Case> cases = {
      {"{\"update\": 1, \"loss\": 2}\n{\"update\": 2, \"loss\": 2\n", "metrics.jsonl: line 2: not valid JSON"},
      {"{\"update\": 1}\n\n{\"loss\": 2}\n", "metrics.jsonl: line 3: no \"update\" field"},
      {"[1, 2]\n", "metrics.jsonl: line 1: not a JSON object"},
      {"{\"update\": \"ten\"}\n", "metrics.jsonl: line 1: \"update\" is not a number"},
      {"{\"update\": 1, \"loss\": true}\n", "metrics.jsonl: line 1: field \"loss\" is a boolean, not a number"},
  };
  for (const auto& c : cases) {
    ev::RunData run;
    try {
      ev::parse_metrics_jsonl(c.text, "r/metrics.jsonl", ev::BadLine::fail, run);
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const cotrain::Error& e) {
      EXPECT_EQ(std::string(e.what()), "r/" + c.expected);
    }
  }
  // Skip mode: the good lines are kept, the bad ones listed.
  ev::RunData run;
  ev::parse_metrics_jsonl("{\"update\": 1, \"loss\": 2}\ngarbage\n{\"update\": 3, \"loss\": 1}\n{\"upd", "m",
                          ev::BadLine::skip, run);
  ASSERT_EQ(run.records.size(), 2u);
  EXPECT_EQ(run.records[1].line, 3);
  EXPECT_EQ(run.skipped_lines, (std::vector<int64_t>{2, 4}));

  // Through the program: exit code 2, one line naming file and line.
  const std::string dir = write_run(scratch_dir("report-bad") + "/bad", "{\"update\": 1, \"loss\": 2}\n{oops\n");
  auto r = run_cotrain({"report", dir, "--out", dir + "/report.html"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(dir + "/metrics.jsonl: line 2: not valid JSON"), std::string::npos) << r.output;
  r = run_cotrain({"report", dir, "--out", dir + "/report.html", "--on-bad-line", "skip"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(read_file(dir + "/report.html").find("skipped malformed lines: 2"), std::string::npos);
  r = run_cotrain({"report", scratch_dir("report-empty"), "--out", dir + "/x.html"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("no metrics.jsonl"), std::string::npos) << r.output;
}

TEST(Report, NiceTicksCoverTheRangeWithRoundSteps) {
  EXPECT_EQ(ev::nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(ev::nice_ticks(10, 40, 5), (std::vector<double>{10, 20, 30, 40}));
  EXPECT_EQ(ev::nice_ticks(10, 40, 6), (std::vector<double>{10, 15, 20, 25, 30, 35, 40}));
  auto t = ev::nice_ticks(0.0001, 0.0005, 4);
  ASSERT_EQ(t.size(), 5u);
  EXPECT_NEAR(t.front(), 0.0001, 1e-12);
  EXPECT_NEAR(t.back(), 0.0005, 1e-12);
  t = ev::nice_ticks(5.5, 9.5, 4);
  EXPECT_LE(t.front(), 5.5);
  EXPECT_GE(t.back(), 9.5);
  t = ev::nice_ticks(3, 3, 4);  // flat line: a band around it
  EXPECT_LT(t.front(), 3);
  EXPECT_GT(t.back(), 3);
  EXPECT_EQ(ev::format_tick(0.0005), "0.0005");
  EXPECT_EQ(ev::format_tick(0.00005), "5e-05");
  EXPECT_EQ(ev::format_tick(12000), "12000");
}

TEST(Report, RendersInHeadlessChromium) {
  const std::string chromium = cotrain::serve_test::find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "no chromium binary (Debian package 'chromium', see scripts/setup.sh)";
  const std::string root = scratch_dir("report-render");
  const std::string a = write_run(root + "/run-a", synthetic_metrics());
  const std::string b = write_run(root + "/run-b", "{\"update\": 10, \"loss\": 8}\n{\"update\": 40, \"loss\": 4}\n", "1e-3");
  const std::string out = root + "/report.html";
  auto r = run_cotrain({"report", a, b, "--out", out, "--title", "render test"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const std::string url = "file://" + out;
  const std::string dom = cotrain::serve_test::run_chromium(url, {"--dump-dom"});
  EXPECT_NE(dom.find("<title>render test</title>"), std::string::npos) << dom.substr(0, 300);
  // The browser parsed every chart: as many <svg> as figures in our file.
  size_t figures = 0, svgs = 0;
  const std::string html = read_file(out);
  for (size_t p = html.find("<figure"); p != std::string::npos; p = html.find("<figure", p + 1)) ++figures;
  for (size_t p = dom.find("<svg"); p != std::string::npos; p = dom.find("<svg", p + 1)) ++svgs;
  EXPECT_GE(figures, 7u);
  EXPECT_EQ(svgs, figures);

  const std::string png = cotrain::serve_test::artifacts_dir() + "/report-screenshot.png";
  std::filesystem::remove(png);
  cotrain::serve_test::run_chromium(url, {"--screenshot=" + png, "--window-size=1280,1400"});
  ASSERT_TRUE(std::filesystem::exists(png)) << "no screenshot";
  // The curves are drawn: pixels in the two runs' colours (#4e79a7, #f28e2b).
  EXPECT_GT(cotrain::serve_test::count_pixels_near(png, 0x4e, 0x79, 0xa7, 12), 200);
  EXPECT_GT(cotrain::serve_test::count_pixels_near(png, 0xf2, 0x8e, 0x2b, 12), 100);
}
