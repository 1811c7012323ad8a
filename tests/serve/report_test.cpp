// `cotrain report`: the page built from synthetic run folders. Charts are checked
// point by point against the metrics (each polyline must be an exact linear image of
// the data, inside the plot area), malformed metrics lines are named by number, and
// the page renders in headless Chromium (screenshot kept in test-artifacts/). With
// --gallery-data, a tiny UNIMO run and a tiny ViLBERT run get a retrieval gallery
// (UNIMO's ranking checked against the search service's independent encoder) and
// UNIMO an embedding projection; that page renders too (second screenshot).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include <nlohmann/json.hpp>
#include <torch/utils.h>

#include "cotrain/core/error.h"
#include "cotrain/eval/report_html.h"
#include "cotrain/eval/report_run.h"
#include "cotrain/eval/report_svg.h"
#include "cotrain/models/vilbert/vilbert.h"
#include "cotrain/models/vilbert/vilbert_weights.h"
#include "cotrain/models/weights.h"
#include "serve/chromium.h"
#include "serve/running_server.h"
#include "serve/serve_fixture.h"
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

namespace {

// Copies every file of a model folder into the run's latest checkpoint, so that the
// run folder resolves to that model (as a trained run would).
void put_model_in_run(const std::string& model_dir, const std::string& run_dir) {
  for (const auto& e : std::filesystem::directory_iterator(model_dir))
    if (e.is_regular_file())
      std::filesystem::copy_file(e.path(), run_dir + "/checkpoints/update-0000040/" + e.path().filename().string(),
                                 std::filesystem::copy_options::overwrite_existing);
}

// A random ViLBERT as tiny as the serve fixture's UNIMO, taking its 12-d grid regions.
void write_tiny_vilbert(const std::string& dir, const std::string& vocab_file) {
  cotrain::ModelConfig text;
  text.vocab_size = 21;
  text.hidden_size = 16;
  text.num_hidden_layers = 1;
  text.num_attention_heads = 2;
  text.intermediate_size = 32;
  text.max_position_embeddings = 32;
  text.initializer_range = 0.5;
  cotrain::VilbertConfig v;
  v.v_feature_size = 12;
  v.v_target_size = 5;
  v.v_hidden_size = 8;
  v.v_num_hidden_layers = 1;
  v.v_num_attention_heads = 2;
  v.v_intermediate_size = 8;
  v.bi_hidden_size = 8;
  v.bi_num_attention_heads = 2;
  v.t_biattention_id = {0};
  v.v_biattention_id = {0};
  torch::manual_seed(3);
  cotrain::models::VilbertForPretraining model(text, v);
  cotrain::models::write_vilbert_folder(dir, text, v, cotrain::models::weights_of(*model));
  std::filesystem::copy_file(vocab_file, dir + "/vocab.txt", std::filesystem::copy_options::overwrite_existing);
}

struct GalleryPage {
  cotrain::serve_test::Collection collection;
  std::string unimo_run, vilbert_run, text_run, captions, out, output;
};

// Three runs (UNIMO, ViLBERT, a text-only one) and a captions file of the fixture's
// six images, one caption each; `cotrain report --gallery-data` over them.
GalleryPage gallery_page(const std::string& name) {
  GalleryPage g;
  g.collection = cotrain::serve_test::make_collection(name);
  const std::string root = g.collection.root;
  g.unimo_run = write_run(root + "/unimo", synthetic_metrics());
  put_model_in_run(g.collection.model, g.unimo_run);
  g.vilbert_run = write_run(root + "/vilbert", "{\"update\": 10, \"loss\": 8}\n{\"update\": 40, \"loss\": 4}\n");
  write_tiny_vilbert(root + "/vilbert-model", root + "/vocab.txt");
  put_model_in_run(root + "/vilbert-model", g.vilbert_run);
  g.text_run = write_run(root + "/text-only", "{\"update\": 10, \"loss\": 5}\n");  // progress.json, no model
  const std::vector<std::string> captions = {"a blue square", "a green circle", "a red heart",
                                             "a yellow dog", "a cat", "smiling face with tears of joy"};
  std::string jsonl;
  for (size_t i = 0; i < g.collection.image_names.size(); ++i)
    jsonl += nlohmann::json{{"image", "images/" + g.collection.image_names[i]},
                            {"image_id", g.collection.image_names[i]},
                            {"caption", captions[i]}}.dump() + "\n";
  g.captions = root + "/captions.jsonl";
  write_file(g.captions, jsonl);
  g.out = root + "/report.html";
  auto r = run_cotrain({"report", g.unimo_run, g.vilbert_run, g.text_run, "--out", g.out, "--gallery-data", g.captions,
                        "--gallery-queries", "3", "--gallery-top", "4", "--gallery-size", "16", "--gallery-grid", "2",
                        "--gallery-pool", "2", "--title", "gallery test"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  g.output = r.output;
  return g;
}

struct Hit {
  int rank;
  bool match;
  std::string src, key;
  double score;
};

std::vector<std::vector<Hit>> gallery_hits(const std::string& html, const std::string& run) {
  const size_t a = html.find("<section class=\"gallery\" data-run=\"" + run + "\"");
  if (a == std::string::npos) return {};
  const std::string section = html.substr(a, html.find("</section>", a) - a);
  std::vector<std::vector<Hit>> queries;
  std::regex hit_re("<figure class=\"hit[^\"]*\" data-rank=\"(\\d+)\" data-match=\"(\\d)\"><img src=\"([^\"]+)\" "
                    "alt=\"([^\"]+)\"[^>]*><figcaption>\\d+\\. [^<]*<br><span class=\"score\">(-?[0-9.]+)</span>");
  for (size_t q = section.find("<div class=\"gallery-query\">"); q != std::string::npos;
       q = section.find("<div class=\"gallery-query\">", q + 1)) {
    const size_t end = section.find("<div class=\"gallery-query\">", q + 1);
    const std::string block = section.substr(q, end == std::string::npos ? std::string::npos : end - q);
    std::vector<Hit> hits;
    for (std::sregex_iterator it(block.begin(), block.end(), hit_re), e; it != e; ++it)
      hits.push_back({std::stoi((*it)[1]), (*it)[2] == "1", (*it)[3], (*it)[4], std::stod((*it)[5])});
    queries.push_back(hits);
  }
  return queries;
}

}  // namespace

TEST(Report, GalleryRanksImagesAsTheModelsDo) {
  const GalleryPage g = gallery_page("report-gallery");
  const std::string html = read_file(g.out);
  EXPECT_NE(g.output.find("report: text-only: no gallery"), std::string::npos) << g.output;
  EXPECT_NE(g.output.find("report: unimo: gallery of 3 queries over 6 images, projection of 6 pairs"), std::string::npos)
      << g.output;

  // UNIMO: queries are the captions of images 0, 2 and 4; each lists 4 images, best
  // first, ranked exactly as the search service (serve/unimo_encoder, a separate
  // encoding path) ranks them for the same text.
  const auto unimo = gallery_hits(html, "unimo");
  ASSERT_EQ(unimo.size(), 3u);
  cotrain::serve_test::RunningServer server(g.collection);
  const std::vector<std::string> queries = {"a blue square", "a red heart", "a cat"};
  for (size_t q = 0; q < 3; ++q) {
    EXPECT_NE(html.find("<b>“" + queries[q] + "”</b>"), std::string::npos) << queries[q];
    const auto expected = server.service().text_to_images(queries[q], 4)["results"];
    ASSERT_EQ(unimo[q].size(), 4u);
    for (size_t r = 0; r < 4; ++r) {
      EXPECT_EQ(unimo[q][r].rank, static_cast<int>(r + 1));
      EXPECT_EQ(unimo[q][r].key, expected[r]["id"].get<std::string>()) << queries[q] << " rank " << r + 1;
      EXPECT_NEAR(unimo[q][r].score, expected[r]["score"].get<double>(), 1.5e-3);  // printed with 3 decimals
      EXPECT_EQ(unimo[q][r].match, unimo[q][r].key == g.collection.image_names[2 * q]);
      EXPECT_EQ(unimo[q][r].src.rfind("data:image/png;base64,", 0), 0u);
    }
  }
  // ViLBERT: scores from the alignment head, in descending order; no projection.
  const auto vilbert = gallery_hits(html, "vilbert");
  ASSERT_EQ(vilbert.size(), 3u);
  for (const auto& hits : vilbert) {
    ASSERT_EQ(hits.size(), 4u);
    for (size_t r = 1; r < hits.size(); ++r) EXPECT_GE(hits[r - 1].score, hits[r].score);
  }
  EXPECT_EQ(gallery_hits(html, "text-only").size(), 0u);
  EXPECT_NE(html.find("vilbert model scores each image with each caption jointly"), std::string::npos);
  EXPECT_NE(html.find("<figure class=\"projection\" data-run=\"unimo\""), std::string::npos);
  EXPECT_EQ(html.find("<figure class=\"projection\" data-run=\"vilbert\""), std::string::npos);
  // Self-contained still: every src is inline data, no script, no links.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  for (size_t p = html.find("src=\""); p != std::string::npos; p = html.find("src=\"", p + 1))
    EXPECT_EQ(html.compare(p + 5, 11, "data:image/"), 0) << html.substr(p, 40);
  EXPECT_EQ(html.find("href="), std::string::npos);

  // A gallery whose grid does not match the model: an error naming the option.
  auto r = run_cotrain({"report", g.unimo_run, "--out", g.out + ".bad.html", "--gallery-data", g.captions});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--gallery-pool"), std::string::npos) << r.output;
  // A caption naming a missing image: file and record.
  write_file(g.collection.root + "/bad.jsonl", "{\"image\": \"images/blue.png\", \"caption\": \"x\"}\n"
                                               "{\"image\": \"images/nope.png\", \"caption\": \"y\"}\n");
  r = run_cotrain({"report", g.unimo_run, "--out", g.out + ".bad.html", "--gallery-data",
                   g.collection.root + "/bad.jsonl", "--gallery-size", "16", "--gallery-grid", "2", "--gallery-pool", "2"});
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad.jsonl: record 2"), std::string::npos) << r.output;
}

TEST(Report, GalleryAndProjectionRenderInHeadlessChromium) {
  const std::string chromium = cotrain::serve_test::find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "no chromium binary (Debian package 'chromium', see scripts/setup.sh)";
  const GalleryPage g = gallery_page("report-gallery-render");
  const std::string url = "file://" + g.out;
  const std::string dom = cotrain::serve_test::run_chromium(url, {"--dump-dom"});
  EXPECT_NE(dom.find("<title>gallery test</title>"), std::string::npos) << dom.substr(0, 300);
  // Every thumbnail and the projection's points reached the DOM.
  size_t imgs = 0, points = 0;
  for (size_t p = dom.find("<img src=\"data:image/png;base64,"); p != std::string::npos;
       p = dom.find("<img src=\"data:image/png;base64,", p + 1))
    ++imgs;
  for (size_t p = dom.find("class=\"image-point\""); p != std::string::npos; p = dom.find("class=\"image-point\"", p + 1))
    ++points;
  EXPECT_EQ(imgs, 24u);  // 2 runs x 3 queries x 4 images
  EXPECT_EQ(points, 6u);

  const std::string png = cotrain::serve_test::artifacts_dir() + "/report-gallery-screenshot.png";
  std::filesystem::remove(png);
  cotrain::serve_test::run_chromium(url, {"--screenshot=" + png, "--window-size=1280,4200"});
  ASSERT_TRUE(std::filesystem::exists(png)) << "no screenshot";
  // The thumbnails are drawn (the fixture's pure red and blue images), and the
  // projection's caption squares (#d62728, a colour no chart uses).
  EXPECT_GT(cotrain::serve_test::count_pixels_near(png, 255, 0, 0, 8), 300);
  EXPECT_GT(cotrain::serve_test::count_pixels_near(png, 0, 0, 255, 8), 300);
  EXPECT_GT(cotrain::serve_test::count_pixels_near(png, 0xd6, 0x27, 0x28, 6), 6 * 20);
}
