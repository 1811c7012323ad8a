// Generation with a UNIMO folder for the commands and the caption task's finish:
// captions for the images of prepared shards or for region sets, text-to-text for
// source texts, and BLEU / CIDEr-D of shard captions (eval/caption_metrics.h).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cotrain/core/config.h"
#include "cotrain/data/regions.h"
#include "cotrain/data/shards.h"
#include "cotrain/models/unimo/unimo_decode.h"
#include "cotrain/models/unimo/unimo_folder.h"

namespace cotrain::tasks {

// seq2seq.beam_size / length_penalty / max_decode_length / no_repeat_ngram, the
// tokenizer's [SEP] as the end token.
models::DecodeOptions decode_options_of(const Config& config, const models::UnimoFolder& folder);

struct CaptionItem {
  std::string image_key;
  std::string generated;
  std::vector<std::string> references;  // every caption of the image in the shards
};
struct CaptionRun {
  std::vector<CaptionItem> items;  // one per image, in shard order
};

// One caption per image of the shards (images without captions are skipped).
CaptionRun caption_shards(models::UnimoFolder& folder, const std::vector<std::string>& shard_dirs,
                          models::DecodeOptions options, int64_t max_regions, int64_t batch_size);
// Captions for region sets (e.g. grid regions of image files).
std::vector<std::string> caption_regions(models::UnimoFolder& folder, const std::vector<data::RegionsView>& views,
                                         models::DecodeOptions options, int64_t max_regions, int64_t batch_size);
// Text to text: source [CLS] text [SEP], generation from the [SEP] position.
std::vector<std::string> generate_from_texts(models::UnimoFolder& folder, const std::vector<std::string>& texts,
                                             models::DecodeOptions options, int64_t max_length, int64_t batch_size);

data::RegionsView view_of(const data::Regions& regions);

// {"image_key", "caption", "references"} per line.
void write_caption_predictions(const std::string& path, const CaptionRun& run);
// {"images", "bleu1".."bleu4", "cider_d"}
nlohmann::json caption_scores_json(const CaptionRun& run);

}  // namespace cotrain::tasks
