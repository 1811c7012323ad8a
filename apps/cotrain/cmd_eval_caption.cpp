// `cotrain eval --task caption`: BLEU-1..4 and CIDEr-D of a UNIMO model's captions for
// the images of prepared shards (--data), against all of each image's captions; or of
// a predictions file written by `cotrain generate --shards` (--caption-predictions).
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/tasks/caption_generate.h"
#include "cotrain/train/checkpoint.h"
#include "eval_command.h"

namespace cotrain::app {
namespace {

struct CaptionEvalOptions {
  std::string predictions;
  int64_t beam = 5, max_length = 20, no_repeat_ngram = 3, max_regions = 36;
  double length_penalty = 0.6;
};

// Lines {"caption"/"generated", "references": [...]} (what generate --shards and the
// caption task write).
tasks::CaptionRun read_predictions(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open", path);
  tasks::CaptionRun run;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail("{}: line {}: not a JSON object", path, number);
    const char* key = j.contains("generated") ? "generated" : "caption";
    if (!j.contains(key) || !j[key].is_string()) fail("{}: line {}: needs a \"generated\" or \"caption\" string", path, number);
    if (!j.contains("references") || !j["references"].is_array() || j["references"].empty())
      fail("{}: line {}: needs a non-empty \"references\" array", path, number);
    tasks::CaptionItem item;
    item.generated = j[key].get<std::string>();
    for (const auto& r : j["references"]) {
      if (!r.is_string()) fail("{}: line {}: references must be strings", path, number);
      item.references.push_back(r.get<std::string>());
    }
    run.items.push_back(std::move(item));
  }
  if (run.items.empty()) fail("{}: no predictions", path);
  return run;
}

Runner setup(CLI::App& cmd, std::shared_ptr<const EvalCommon> common) {
  auto o = std::make_shared<CaptionEvalOptions>();
  cmd.add_option("--caption-predictions", o->predictions,
                 "caption: score this JSON-lines file ({\"generated\", \"references\"}) instead of running --model");
  cmd.add_option("--caption-beam", o->beam, "caption: beam size (1: greedy)")->default_val(5);
  cmd.add_option("--caption-length-penalty", o->length_penalty, "caption: length penalty alpha")->default_val(0.6);
  cmd.add_option("--caption-max-length", o->max_length, "caption: most tokens generated")->default_val(20);
  cmd.add_option("--caption-no-repeat-ngram", o->no_repeat_ngram, "caption: no repeated n-grams of this size")->default_val(3);
  cmd.add_option("--caption-max-regions", o->max_regions, "caption: regions per image kept")->default_val(36);
  return [o, common] {
    tasks::CaptionRun run;
    if (!o->predictions.empty()) {
      run = read_predictions(o->predictions);
    } else {
      if (common->model.empty() || common->data.empty())
        fail("eval --task caption: give --model DIR and --data SHARDS (or --caption-predictions FILE)");
      models::UnimoFolder folder = models::load_unimo_folder(train::resolve_model_dir(common->model));
      if (!folder.tokenizer) fail("{}: the model folder has no vocabulary", common->model);
      models::DecodeOptions d;
      d.beam_size = o->beam;
      d.length_penalty = o->length_penalty;
      d.max_length = o->max_length;
      d.no_repeat_ngram = o->no_repeat_ngram;
      d.eos = folder.tokenizer->specials().sep;
      run = tasks::caption_shards(folder, common->data, d, o->max_regions, common->batch_size);
      if (!common->out.empty()) tasks::write_caption_predictions(common->out, run);
    }
    nlohmann::json out = tasks::caption_scores_json(run);
    out["task"] = "caption";
    std::cout << out.dump() << "\n";
    return 0;
  };
}

EvalRegistration reg("caption",
                     "BLEU-1..4 and CIDEr-D of a UNIMO model's captions for --data shards (or of "
                     "--caption-predictions)",
                     setup);

}  // namespace
}  // namespace cotrain::app
