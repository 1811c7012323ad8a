// Emoji image-text data (data.md): the emoji-datasource artwork packages joined with
// emojibase's CLDR annotations. Each emoji (and each skin-tone variant) is one image
// per artist with an English caption (its CLDR label), keyword tags, and paraphrases
// (its label in other languages, and the Unicode name when it says something else),
// the natural paraphrase positives for UNIMO's CMCL.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cotrain::data {

// Code points as one key: upper case, without the FE0F variation selector, so that
// emoji-datasource's "unified" and emojibase's "hexcode" meet ("0023-FE0F-20E3" and
// "0023-20e3" are both "0023-20E3").
std::string emoji_key(const std::string& code_points);

struct EmojiEntry {
  std::string id;           // emoji-datasource "unified" of this image
  std::string concept;      // id of the base emoji (skin-tone variants share it)
  std::string category, subcategory;
  std::string caption;      // English CLDR label; the lower-cased Unicode name when absent
  std::vector<std::string> tags;         // English CLDR tags (short names when absent)
  std::vector<std::string> paraphrases;  // other languages' labels, Unicode name
  int skin_tone = 0;                     // 0 base; 1-5 for a single tone; 6 for mixed
  std::map<std::string, std::string> images;  // artist -> PNG path (existing files only)
};

struct EmojiOptions {
  std::vector<std::string> artists = {"google", "apple"};
  std::vector<std::string> paraphrase_languages = {"zh", "ja", "de", "fr", "es", "ru", "ko"};
};

struct EmojiData {
  std::vector<EmojiEntry> entries;
  // Counts for the log and the report.
  std::int64_t base_emoji = 0, skin_variants = 0, without_annotation = 0;
  std::map<std::string, std::int64_t> images_per_artist;
  std::map<std::string, std::int64_t> labels_per_language;
};

// Reads DIR/emoji.json, DIR/emojibase/<lang>/data.json and checks DIR/img/<artist>/64/
// (the layout scripts/fetch-emoji.sh makes). Errors name the file and the record.
EmojiData load_emoji(const std::string& data_dir, const EmojiOptions& options = {});

// The concepts held out of training: the round(fraction * n) concepts with the
// smallest hash of (seed, concept id). Deterministic on every platform, and adding
// new emoji does not move existing ones between the splits.
std::vector<std::string> held_out_concepts(const std::vector<EmojiEntry>& entries, double fraction,
                                           std::uint64_t seed);

struct EmojiWriteSummary {
  std::map<std::string, std::int64_t> train_lines, heldout_lines;  // per artist
  std::int64_t concepts = 0, heldout_concepts = 0;
};

// Writes OUT/<artist>.jsonl for every artist: one line per image,
//   {"image", "image_id", "caption", "paraphrases", "tags", "concept", "split",
//    "category", "subcategory", "skin_tone"}
// with split "train" or "heldout", image paths relative to OUT, image_id the image's
// file name without extension (what `cotrain regions --stem-ids` uses); OUT/heldout.txt
// (one concept id per line) and OUT/summary.json with the counts.
EmojiWriteSummary write_emoji_captions(const EmojiData& data, const std::string& out_dir, double heldout_fraction,
                                       std::uint64_t seed);

}  // namespace cotrain::data
