// `cotrain index`: embeds a collection once with a trained UNIMO model into an index
// folder that `cotrain serve` searches (serve/embedding_index.h has the layout).
#include <CLI/CLI.hpp>

#include <iostream>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/serve/index_builder.h"

namespace cotrain::app {
namespace {

struct IndexArgs {
  std::string model, out;
  serve::IndexSources sources;
  serve::IndexBuildOptions build;
  serve::EncoderOptions encoder;
  int64_t threads = 0;
};

Runner setup(CLI::App& cmd) {
  auto a = std::make_shared<IndexArgs>();
  cmd.add_option("--model", a->model, "UNIMO model folder, or a run folder (its latest checkpoint)")->required();
  cmd.add_option("--images", a->sources.images, "a folder of PNG/JPEG images, or a file listing image paths");
  cmd.add_option("--regions", a->sources.regions, "region features (bottom-up-attention TSV; no thumbnails)");
  cmd.add_option("--captions", a->sources.captions,
                 "captions (JSONL, COCO or Karpathy): their images, and their captions as texts unless --texts");
  cmd.add_option("--texts", a->sources.texts, "texts to index, one per line (blank lines skipped)");
  cmd.add_option("--out", a->out, "index folder to write")->required();
  cmd.add_option("--batch-size", a->build.batch_size, "images or texts per forward pass")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--thumbnail-size", a->build.thumbnail_size, "thumbnails fit S x S pixels")
      ->capture_default_str()
      ->check(CLI::Range(8, 512));
  cmd.add_option("--max-regions", a->encoder.max_regions, "regions per image kept")->capture_default_str();
  cmd.add_option("--max-length", a->encoder.max_length, "tokens per text, specials included (0: the model's limit)")
      ->capture_default_str();
  cmd.add_option("--size", a->encoder.grid.image_size, "grid regions: images resized to S x S (as in training)")
      ->capture_default_str();
  cmd.add_option("--grid", a->encoder.grid.grid, "grid regions: G x G patches (as in training)")->capture_default_str();
  cmd.add_option("--pool", a->encoder.grid.pool, "grid regions: patches pooled to P x P (as in training)")
      ->capture_default_str();
  cmd.add_option("--threads", a->threads, "compute threads (0: all cores)")->capture_default_str();
  cmd.footer("Images are encoded alone (h[IMG]) and texts alone (h[CLS]), L2-normalised: the space CMCL trains.\n"
             "Raw images become grid-patch regions; --size/--grid/--pool must match 'cotrain prepare'.");
  return [a] {
    apply_thread_count(a->threads);
    serve::UnimoEncoder encoder(a->model, a->encoder);
    if (a->sources.regions.empty() && (!a->sources.images.empty() || !a->sources.captions.empty()) &&
        a->encoder.grid.feature_dim() != encoder.feature_dim())
      fail("grid regions have {} features (3 x pool^2, --pool {}), but the model takes {}: use the --pool of "
           "'cotrain prepare'",
           a->encoder.grid.feature_dim(), a->encoder.grid.pool, encoder.feature_dim());
    const auto stats = serve::build_index(encoder, a->sources, a->out, a->build);
    std::cout << "index: " << stats.images << " images (" << stats.thumbnails << " thumbnails), " << stats.texts
              << " texts, width " << encoder.dim() << ", in " << stats.seconds << " s -> " << a->out << "\n";
    return 0;
  };
}

Registration reg("index", "embed images and texts with a UNIMO model into a search index folder", setup);

}  // namespace
}  // namespace cotrain::app
