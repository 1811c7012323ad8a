#include "cotrain/data/captions.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"

namespace cotrain::data {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::set<std::string> split_filter(const std::string& splits) {
  std::set<std::string> keep;
  std::stringstream in(splits);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) keep.insert(item);
  return keep;
}

bool keep_split(const std::set<std::string>& keep, const std::string& split) {
  return keep.empty() || keep.count(split) > 0;
}

std::string resolve(const std::string& root, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute() || root.empty()) return path;
  return (fs::path(root) / path).lexically_normal().string();
}

std::string default_root(const CaptionOptions& options, const std::string& file) {
  return options.image_root.empty() ? parent_directory(file) : options.image_root;
}

json parse_json_file(const std::string& path) {
  std::string text = read_whole_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    fail("{}: invalid JSON at byte {}: {}", path, e.byte, e.what());
  } catch (const json::exception& e) {  // a number too large for a double, ...
    fail("{}: invalid JSON: {}", path, e.what());
  }
}

// A string member, or an error naming the record.
std::string get_string(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) fail("{}: missing \"{}\"", where, key);
  if (!it->is_string()) fail("{}: \"{}\" is not a string", where, key);
  return it->get<std::string>();
}

// An id that may be written as a number or a string.
std::string get_id(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) fail("{}: missing \"{}\"", where, key);
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it->is_string()) return it->get<std::string>();
  fail("{}: \"{}\" is neither an integer nor a string", where, key);
}

std::vector<std::string> get_string_list(const json& object, const char* key, const std::string& where) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) fail("{}: \"{}\" is not a list of strings", where, key);
  for (const auto& v : *it) {
    if (!v.is_string()) fail("{}: \"{}\" holds a non-string", where, key);
    out.push_back(v.get<std::string>());
  }
  return out;
}

const json& get_array(const json& object, const char* key, const std::string& where) {
  if (!object.is_object()) fail("{}: top level is not a JSON object", where);
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) fail("{}: missing list \"{}\"", where, key);
  return *it;
}

}  // namespace

CaptionFormat parse_caption_format(const std::string& name) {
  if (name == "auto") return CaptionFormat::automatic;
  if (name == "coco") return CaptionFormat::coco;
  if (name == "karpathy") return CaptionFormat::karpathy;
  if (name == "jsonl") return CaptionFormat::jsonl;
  fail("unknown caption format '{}' (expected auto, coco, karpathy or jsonl)", name);
}

namespace {

std::vector<Caption> coco_from_json(const json& doc, const std::string& path, const CaptionOptions& options) {
  const json& images = get_array(doc, "images", path);
  const json& annotations = get_array(doc, "annotations", path);
  const std::string root = default_root(options, path);
  std::unordered_map<std::string, std::string> file_of;
  for (std::size_t i = 0; i < images.size(); ++i) {
    std::string where = fmt::format("{}: images[{}]", path, i);
    if (!images[i].is_object()) fail("{}: not an object", where);
    std::string id = get_id(images[i], "id", where);
    if (!file_of.emplace(id, get_string(images[i], "file_name", where)).second)
      fail("{}: duplicate image id {}", where, id);
  }
  auto keep = split_filter(options.splits);
  std::vector<Caption> out;
  if (!keep.empty()) return out;  // COCO captions carry no split
  for (std::size_t i = 0; i < annotations.size(); ++i) {
    std::string where = fmt::format("{}: annotations[{}]", path, i);
    if (!annotations[i].is_object()) fail("{}: not an object", where);
    Caption c;
    c.image_key = get_id(annotations[i], "image_id", where);
    auto it = file_of.find(c.image_key);
    if (it == file_of.end()) fail("{}: image_id {} is not in \"images\"", where, c.image_key);
    c.image_path = resolve(root, it->second);
    c.text = get_string(annotations[i], "caption", where);
    c.record = static_cast<std::int64_t>(i);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Caption> karpathy_from_json(const json& doc, const std::string& path, const CaptionOptions& options) {
  const json& images = get_array(doc, "images", path);
  const std::string root = default_root(options, path);
  auto keep = split_filter(options.splits);
  std::vector<Caption> out;
  for (std::size_t i = 0; i < images.size(); ++i) {
    std::string where = fmt::format("{}: images[{}]", path, i);
    const json& image = images[i];
    if (!image.is_object()) fail("{}: not an object", where);
    std::string filename = get_string(image, "filename", where);
    std::string split = image.contains("split") ? get_string(image, "split", where) : "";
    if (!keep_split(keep, split)) continue;
    std::string key = image.contains("cocoid") ? get_id(image, "cocoid", where) : fs::path(filename).stem().string();
    std::string rel = image.contains("filepath") ? (fs::path(get_string(image, "filepath", where)) / filename).string()
                                                  : filename;
    const json& sentences = get_array(image, "sentences", where);
    for (std::size_t j = 0; j < sentences.size(); ++j) {
      std::string swhere = fmt::format("{}.sentences[{}]", where, j);
      if (!sentences[j].is_object()) fail("{}: not an object", swhere);
      Caption c;
      c.image_key = key;
      c.image_path = resolve(root, rel);
      c.text = get_string(sentences[j], "raw", swhere);
      c.split = split;
      c.record = static_cast<std::int64_t>(i);
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace

std::vector<Caption> read_coco_captions(const std::string& path, const CaptionOptions& options) {
  return coco_from_json(parse_json_file(path), path, options);
}

std::vector<Caption> read_karpathy_captions(const std::string& path, const CaptionOptions& options) {
  return karpathy_from_json(parse_json_file(path), path, options);
}

std::vector<Caption> read_jsonl_captions(const std::string& path, const CaptionOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open caption file", path);
  const std::string root = default_root(options, path);
  auto keep = split_filter(options.splits);
  std::vector<Caption> out;
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::string where = fmt::format("{}: line {}", path, number);
    json record;
    try {
      record = json::parse(line);
    } catch (const json::parse_error& e) {
      fail("{}: invalid JSON at column {}: {}", where, e.byte, e.what());
    } catch (const json::exception& e) {  // a number too large for a double, ...
      fail("{}: invalid JSON: {}", where, e.what());
    }
    if (!record.is_object()) fail("{}: not a JSON object", where);
    Caption c;
    c.split = record.contains("split") ? get_string(record, "split", where) : "";
    if (!keep_split(keep, c.split)) continue;
    std::string image = get_string(record, "image", where);
    c.image_key = record.contains("image_id") ? get_id(record, "image_id", where) : image;
    c.image_path = resolve(root, image);
    c.text = get_string(record, "caption", where);
    c.paraphrases = get_string_list(record, "paraphrases", where);
    c.tags = get_string_list(record, "tags", where);
    if (record.contains("concept")) c.concept = get_id(record, "concept", where);
    c.record = number;
    out.push_back(std::move(c));
  }
  if (in.bad()) fail("{}: read error after line {}", path, number);
  return out;
}

std::vector<Caption> read_captions(const std::string& path, const CaptionOptions& options) {
  CaptionFormat format = options.format;
  if (format == CaptionFormat::jsonl ||
      (format == CaptionFormat::automatic && fs::path(path).extension() == ".jsonl"))
    return read_jsonl_captions(path, options);
  json doc = parse_json_file(path);
  if (format == CaptionFormat::automatic) {
    if (doc.is_object() && doc.contains("annotations")) {
      format = CaptionFormat::coco;
    } else if (doc.is_object() && doc.contains("images") && doc["images"].is_array() &&
               (doc["images"].empty() || (doc["images"][0].is_object() && doc["images"][0].contains("sentences")))) {
      format = CaptionFormat::karpathy;
    } else {
      fail("{}: neither COCO captions (\"annotations\") nor a Karpathy split (\"images\" with \"sentences\"); "
           "pass the format explicitly",
           path);
    }
  }
  return format == CaptionFormat::coco ? coco_from_json(doc, path, options) : karpathy_from_json(doc, path, options);
}

void check_caption_images(const std::vector<Caption>& captions, const std::string& source) {
  std::unordered_set<std::string> seen;
  for (const auto& c : captions) {
    if (seen.count(c.image_path)) continue;
    if (c.image_path.empty() || !is_regular_file(c.image_path))
      fail("{}: record {}: image '{}' not found (caption \"{}\")", source, c.record, c.image_path,
           c.text.substr(0, 60));
    seen.insert(c.image_path);
  }
}

}  // namespace cotrain::data
