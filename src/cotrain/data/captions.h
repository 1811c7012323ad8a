// Image captions from the files users already have (formats.md): COCO captions JSON,
// Karpathy split JSON (dataset_coco.json / dataset_flickr30k.json), and JSON lines
// {"image": path, "caption": text} (optionally "paraphrases", "tags", "concept",
// "split", "image_id": what `cotrain emoji` writes). All become Caption records.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cotrain::data {

struct Caption {
  std::string image_key;   // joins with region features' image_id (see each reader)
  std::string image_path;  // the image file, resolved against the image root
  std::string text;
  std::string split;       // "" when the source has none
  std::vector<std::string> paraphrases;  // other wordings of the same caption
  std::vector<std::string> tags;         // keywords
  std::string concept;                   // what the image shows, for held-out splits
  std::int64_t record = 0;  // where it came from: annotation index (COCO), image index
                            // (Karpathy), 1-based line (JSONL)
};

enum class CaptionFormat { automatic, coco, karpathy, jsonl };
CaptionFormat parse_caption_format(const std::string& name);  // auto|coco|karpathy|jsonl

struct CaptionOptions {
  CaptionFormat format = CaptionFormat::automatic;  // auto: .jsonl -> jsonl, else by the JSON's keys
  // Folder that image paths are relative to. Default: COCO and Karpathy: the caption
  // file's folder; JSONL: the JSONL file's folder.
  std::string image_root;
  // Keep only these splits (comma-separated, e.g. "train,restval"); empty keeps all.
  // Records without a split are dropped when a filter is given.
  std::string splits;
};

// COCO: image_key = images[].id, image_path = root/file_name, record = annotation index.
std::vector<Caption> read_coco_captions(const std::string& path, const CaptionOptions& options = {});
// Karpathy: one Caption per sentence ("raw"); image_key = "cocoid" when present, else
// the file name without extension (Flickr30k ids); image_path = root/filepath/filename;
// record = index in "images".
std::vector<Caption> read_karpathy_captions(const std::string& path, const CaptionOptions& options = {});
// JSONL: image_key = "image_id" when present, else the "image" value as written.
std::vector<Caption> read_jsonl_captions(const std::string& path, const CaptionOptions& options = {});
std::vector<Caption> read_captions(const std::string& path, const CaptionOptions& options = {});

// Fails on the first caption whose image file does not exist, naming `source`, the
// record and the path.
void check_caption_images(const std::vector<Caption>& captions, const std::string& source);

}  // namespace cotrain::data
