// `cotrain generate`: text from a UNIMO model (seq2seq, unimo.md "Downstream"):
// captions for image files (grid-patch regions, as `cotrain prepare --from-images`),
// for the images of prepared shards, or text-to-text continuations of source texts.
// Greedy or beam search with a key/value cache (models/unimo/unimo_decode.h).
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/error.h"
#include "cotrain/data/regions_grid.h"
#include "cotrain/io/image.h"
#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/tasks/caption_generate.h"
#include "cotrain/train/checkpoint.h"

namespace cotrain::app {
namespace {

struct GenerateOptions {
  std::string model, out = "-";
  std::vector<std::string> images, shards, texts;
  int64_t beam = 5, max_length = 20, no_repeat_ngram = 3, max_regions = 36, batch_size = 32, max_text = 128,
          threads = 0;
  double length_penalty = 0.6;
};

Runner setup(CLI::App& cmd) {
  auto o = std::make_shared<GenerateOptions>();
  cmd.add_option("--model", o->model, "UNIMO folder, checkpoint or run folder (latest checkpoint)")->required();
  cmd.add_option("--images", o->images, "image files to caption (PNG/JPEG; grid-patch regions, 64x64, 4x4 grid)");
  cmd.add_option("--shards", o->shards, "prepared shards: one caption per image, with its true captions");
  cmd.add_option("--text", o->texts, "source texts (text to text)");
  cmd.add_option("--beam", o->beam, "beam size (1: greedy)")->default_val(5)->check(CLI::PositiveNumber);
  cmd.add_option("--length-penalty", o->length_penalty, "alpha of ((5 + len) / 6)^alpha")->default_val(0.6);
  cmd.add_option("--max-length", o->max_length, "most tokens generated")->default_val(20)->check(CLI::PositiveNumber);
  cmd.add_option("--no-repeat-ngram", o->no_repeat_ngram, "n-grams of this size never repeat (0: off)")->default_val(3);
  cmd.add_option("--max-regions", o->max_regions, "regions per image kept")->default_val(36)->check(CLI::PositiveNumber);
  cmd.add_option("--max-text", o->max_text, "tokens of a source text, specials included")->default_val(128);
  cmd.add_option("--batch-size", o->batch_size, "sources decoded together")->default_val(32)->check(CLI::PositiveNumber);
  cmd.add_option("--out", o->out, "JSON lines {\"source\", \"generated\"[, \"references\"]} ('-': stdout)")
      ->default_val("-");
  cmd.add_option("--threads", o->threads, "compute threads (0: all cores)")->default_val(0);
  return [o] {
    if (o->images.empty() && o->shards.empty() && o->texts.empty())
      fail("generate: give --images FILES, --shards DIRS or --text TEXTS");
    if (o->no_repeat_ngram < 0) fail("generate: --no-repeat-ngram must be >= 0");
    apply_thread_count(o->threads);
    models::UnimoFolder folder = models::load_unimo_folder(train::resolve_model_dir(o->model));
    if (!folder.tokenizer) fail("{}: the model folder has no vocabulary", o->model);
    models::DecodeOptions d;
    d.beam_size = o->beam;
    d.length_penalty = o->length_penalty;
    d.max_length = o->max_length;
    d.no_repeat_ngram = o->no_repeat_ngram;
    d.eos = folder.tokenizer->specials().sep;
    std::vector<nlohmann::json> records;
    if (!o->images.empty()) {
      data::GridOptions grid;
      std::vector<data::Regions> regions;
      for (const auto& path : o->images) regions.push_back(data::grid_regions(io::load_image(path), grid, path));
      std::vector<data::RegionsView> views;
      for (const auto& r : regions) views.push_back(tasks::view_of(r));
      auto captions = tasks::caption_regions(folder, views, d, o->max_regions, o->batch_size);
      for (size_t i = 0; i < captions.size(); ++i) records.push_back({{"source", o->images[i]}, {"generated", captions[i]}});
    }
    if (!o->shards.empty()) {
      tasks::CaptionRun run = tasks::caption_shards(folder, o->shards, d, o->max_regions, o->batch_size);
      for (const auto& item : run.items)
        records.push_back({{"source", item.image_key}, {"generated", item.generated}, {"references", item.references}});
    }
    if (!o->texts.empty()) {
      auto outputs = tasks::generate_from_texts(folder, o->texts, d, o->max_text, o->batch_size);
      for (size_t i = 0; i < outputs.size(); ++i) records.push_back({{"source", o->texts[i]}, {"generated", outputs[i]}});
    }
    std::ofstream file;
    if (o->out != "-") {
      file.open(o->out);
      if (!file) fail("{}: cannot write", o->out);
    }
    std::ostream& out = o->out == "-" ? std::cout : file;
    for (const auto& r : records) out << r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  };
}

Registration reg("generate", "captions for images / shards, or text to text, with a UNIMO model (greedy or beam search)",
                 setup);

}  // namespace
}  // namespace cotrain::app
