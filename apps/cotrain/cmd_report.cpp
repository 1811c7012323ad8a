// `cotrain report RUN_DIR [RUN_DIR...] --out report.html`: one self-contained HTML
// page (inline SVG charts, no network) comparing training runs; with --gallery-data
// CAPTIONS, each vision-language run also gets a retrieval gallery and (UNIMO) an
// embedding projection (report_gallery.h).
#include <CLI/CLI.hpp>

#include <chrono>
#include <ctime>
#include <iostream>

#include "command.h"
#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/eval/report_html.h"
#include "cotrain/eval/report_run.h"
#include "report_gallery.h"

namespace cotrain::app {
namespace {

struct ReportArgs {
  std::vector<std::string> runs;
  std::string out, title = "cotrain report", on_bad_line = "fail";
  GalleryOptions gallery;
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
  auto& g = a->gallery;
  cmd.add_option("--gallery-data", g.data,
                 "captions file (JSONL, COCO or Karpathy): image-text runs get a retrieval gallery of its captions "
                 "and images and (UNIMO) a projection of their embeddings");
  cmd.add_option("--gallery-splits", g.splits, "gallery: keep only captions of these splits (comma-separated)");
  cmd.add_option("--gallery-images", g.max_images, "gallery: candidate images (the first N of the file)")
      ->capture_default_str();
  cmd.add_option("--gallery-queries", g.queries, "gallery: captions used as queries")->capture_default_str();
  cmd.add_option("--gallery-top", g.top, "gallery: images shown per query")->capture_default_str();
  cmd.add_option("--projection-pairs", g.projection_pairs, "gallery: (image, caption) pairs in the projection")
      ->capture_default_str();
  cmd.add_option("--gallery-size", g.grid.image_size, "gallery: images resized to S x S (as in training)")
      ->capture_default_str();
  cmd.add_option("--gallery-grid", g.grid.grid, "gallery: G x G patches per image (as in training)")
      ->capture_default_str();
  cmd.add_option("--gallery-pool", g.grid.pool, "gallery: patches pooled to P x P (as in training)")
      ->capture_default_str();
  cmd.add_option("--batch-size", g.batch_size, "gallery: examples per forward pass")->capture_default_str();
  cmd.footer("Charts: every loss term, learning rate, gradient norm, throughput, evaluation and other numeric\n"
             "fields of metrics.jsonl against the update; then rollback events and the configs (and the keys\n"
             "in which several runs differ). The page has no script and loads nothing from the network.\n"
             "With --gallery-data, UNIMO and ViLBERT runs are ranked on those images exactly as 'cotrain eval\n"
             "--task retrieval' ranks them (UNIMO: embedding cosine; ViLBERT: alignment score), thumbnails inside\n"
             "the page; UNIMO runs also get a PCA projection of image and caption embeddings. Other runs are\n"
             "listed without a gallery.");
  return [a] {
    auto runs = eval::read_runs(a->runs, a->on_bad_line == "skip" ? eval::BadLine::skip : eval::BadLine::fail);
    if (!a->gallery.data.empty()) {
      const GallerySource source = load_gallery_source(a->gallery);
      for (auto& run : runs) {
        std::string why;
        run.gallery = run_gallery(run.dir, source, a->gallery, why);
        if (run.gallery)
          std::cout << "report: " << run.name << ": gallery of " << run.gallery->queries.size() << " queries over "
                    << run.gallery->num_images << " images"
                    << (run.gallery->image_embeddings.empty() ? "" : ", projection of " +
                                                                         std::to_string(run.gallery->image_embeddings.size()) +
                                                                         " pairs")
                    << "\n";
        else
          std::cout << "report: " << run.name << ": no gallery (" << why << ")\n";
      }
    }
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
