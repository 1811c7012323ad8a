// `cotrain index`: embeds a collection once with a trained UNIMO model into an index
// folder that `cotrain serve` searches (serve/embedding_index.h has the layout).
#include <CLI/CLI.hpp>

#include <iostream>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/serve/approximate_store.h"
#include "cotrain/serve/index_builder.h"

namespace cotrain::app {
namespace {

struct IndexArgs {
  std::string model, out;
  serve::IndexSources sources;
  serve::IndexBuildOptions build;
  serve::EncoderOptions encoder;
  serve::ApproximateOptions approximate;
  int64_t recall_queries = 1000;
  int64_t threads = 0;
};

Runner setup(CLI::App& cmd) {
  auto a = std::make_shared<IndexArgs>();
  cmd.add_option("--model", a->model,
                 "UNIMO model folder, or a run folder (its latest checkpoint); without it and without sources, "
                 "--approximate is added to the existing index --out");
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
  auto& o = a->approximate;
  cmd.add_option("--approximate", o.kind, "also build an approximate index (faiss): ivf or hnsw")
      ->check(CLI::IsMember({"ivf", "hnsw"}));
  cmd.add_option("--nlist", o.nlist, "ivf: inverted lists (0: min(4 sqrt(rows), rows/39))")->capture_default_str();
  cmd.add_option("--nprobe", o.nprobe, "ivf: lists scanned per query (0: max(8, nlist/16); serve can override)")
      ->capture_default_str();
  cmd.add_option("--hnsw-m", o.hnsw_m, "hnsw: links per node")->capture_default_str();
  cmd.add_option("--ef-construction", o.ef_construction, "hnsw: beam width while building")->capture_default_str();
  cmd.add_option("--ef-search", o.ef_search, "hnsw: beam width per query (serve can override)")->capture_default_str();
  cmd.add_option("--recall-queries", a->recall_queries,
                 "queries for measuring the approximate index's recall@10 against exact search (0: skip)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--threads", a->threads, "compute threads (0: all cores)")->capture_default_str();
  cmd.footer("Images are encoded alone (h[IMG]) and texts alone (h[CLS]), L2-normalised: the space CMCL trains.\n"
             "Raw images become grid-patch regions; --size/--grid/--pool must match 'cotrain prepare'.\n"
             "--approximate writes INDEX/images.faiss and texts.faiss beside the embeddings and records the\n"
             "settings and the measured recall in index.json; 'cotrain serve' then uses them (--exact: not).");
  return [a] {
    apply_thread_count(a->threads);
    const bool approximate = !a->approximate.kind.empty();
    if (approximate) serve::check_approximate_options(a->approximate);
    if (approximate && !serve::approximate_search_available())
      fail("--approximate: this build has no faiss (install libfaiss-dev with scripts/setup.sh, re-run cmake)");
    const bool no_sources = a->sources.images.empty() && a->sources.regions.empty() &&
                            a->sources.captions.empty() && a->sources.texts.empty();
    if (a->model.empty()) {
      if (!approximate || !no_sources) fail("--model is required (it may be left out only to add --approximate "
                                            "to an existing index, with no --images/--regions/--captions/--texts)");
      if (!is_regular_file(join_path(a->out, "index.json"))) fail("{}: no index.json to add an approximate index to", a->out);
      serve::add_approximate_index(a->out, a->approximate, a->recall_queries, std::cerr);
      std::cout << "index: approximate (" << a->approximate.kind << ") added to " << a->out << "\n";
      return 0;
    }
    serve::UnimoEncoder encoder(a->model, a->encoder);
    if (a->sources.regions.empty() && (!a->sources.images.empty() || !a->sources.captions.empty()) &&
        a->encoder.grid.feature_dim() != encoder.feature_dim())
      fail("grid regions have {} features (3 x pool^2, --pool {}), but the model takes {}: use the --pool of "
           "'cotrain prepare'",
           a->encoder.grid.feature_dim(), a->encoder.grid.pool, encoder.feature_dim());
    const auto stats = serve::build_index(encoder, a->sources, a->out, a->build);
    std::cout << "index: " << stats.images << " images (" << stats.thumbnails << " thumbnails), " << stats.texts
              << " texts, width " << encoder.dim() << ", in " << stats.seconds << " s -> " << a->out << "\n";
    if (approximate) {
      serve::add_approximate_index(a->out, a->approximate, a->recall_queries, std::cerr);
      std::cout << "index: approximate (" << a->approximate.kind << ") beside it\n";
    }
    return 0;
  };
}

Registration reg("index", "embed images and texts with a UNIMO model into a search index folder", setup);

}  // namespace
}  // namespace cotrain::app
