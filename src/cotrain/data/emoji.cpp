#include "cotrain/data/emoji.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"

namespace cotrain::data {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

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

struct Annotation {
  std::string label;
  std::vector<std::string> tags;
};

// One language's labels (and tags), base emoji and skin variants alike, by emoji_key.
std::unordered_map<std::string, Annotation> load_annotations(const std::string& path) {
  json doc = parse_json_file(path);
  if (!doc.is_array()) fail("{}: expected a JSON list of emoji records", path);
  std::unordered_map<std::string, Annotation> out;
  auto add = [&](const json& r, const std::string& where) {
    if (!r.is_object() || !r.contains("hexcode") || !r["hexcode"].is_string())
      fail("{}: {}: missing \"hexcode\"", path, where);
    Annotation a;
    if (r.contains("label") && r["label"].is_string()) a.label = r["label"].get<std::string>();
    if (r.contains("tags") && r["tags"].is_array())
      for (const auto& t : r["tags"])
        if (t.is_string()) a.tags.push_back(t.get<std::string>());
    out[emoji_key(r["hexcode"].get<std::string>())] = std::move(a);
  };
  for (std::size_t i = 0; i < doc.size(); ++i) {
    std::string where = fmt::format("record {}", i);
    add(doc[i], where);
    if (doc[i].contains("skins") && doc[i]["skins"].is_array())
      for (std::size_t k = 0; k < doc[i]["skins"].size(); ++k)
        add(doc[i]["skins"][k], fmt::format("{} skins[{}]", where, k));
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string get_string(const json& r, const char* key, const std::string& where, bool required = true) {
  auto it = r.find(key);
  if (it == r.end() || it->is_null()) {
    if (required) fail("{}: missing \"{}\"", where, key);
    return "";
  }
  if (!it->is_string()) fail("{}: \"{}\" is not a string", where, key);
  return it->get<std::string>();
}

int tone_of(const std::string& id) {
  std::set<int> tones;
  std::stringstream in(id);
  std::string part;
  while (std::getline(in, part, '-')) {
    std::string p = lower(part);
    if (p.size() == 5 && p.compare(0, 4, "1f3f") == 0 && p[4] >= 'b' && p[4] <= 'f') tones.insert(p[4] - 'b' + 1);
  }
  if (tones.empty()) return 0;
  return tones.size() == 1 ? *tones.begin() : 6;
}

std::uint64_t fnv1a(std::uint64_t seed, const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL);
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  // Final avalanche so that nearby seeds give unrelated orders.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

std::string emoji_key(const std::string& code_points) {
  std::string out;
  std::stringstream in(code_points);
  std::string part;
  while (std::getline(in, part, '-')) {
    for (auto& c : part) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (part.empty() || part == "FE0F") continue;
    if (!out.empty()) out += '-';
    out += part;
  }
  return out;
}

EmojiData load_emoji(const std::string& data_dir, const EmojiOptions& options) {
  const std::string emoji_json = join_path(data_dir, "emoji.json");
  if (!is_regular_file(emoji_json))
    fail("{}: not found (run scripts/fetch-emoji.sh {} first)", emoji_json, data_dir);
  EmojiData data;
  std::unordered_map<std::string, Annotation> english;
  std::vector<std::pair<std::string, std::unordered_map<std::string, Annotation>>> others;
  {
    std::string path = join_path(data_dir, "emojibase/en/data.json");
    english = load_annotations(path);
    data.labels_per_language["en"] = static_cast<std::int64_t>(english.size());
  }
  for (const auto& lang : options.paraphrase_languages) {
    std::string path = join_path(data_dir, "emojibase/" + lang + "/data.json");
    others.emplace_back(lang, load_annotations(path));
    data.labels_per_language[lang] = static_cast<std::int64_t>(others.back().second.size());
  }
  for (const auto& artist : options.artists) {
    if (!is_directory(join_path(data_dir, "img/" + artist + "/64")))
      fail("{}: no img/{}/64 folder (artists fetched: google, apple)", data_dir, artist);
    data.images_per_artist[artist] = 0;
  }

  json records = parse_json_file(emoji_json);
  if (!records.is_array()) fail("{}: expected a JSON list of emoji records", emoji_json);

  auto make_entry = [&](const json& r, const std::string& where, const EmojiEntry* base) {
    EmojiEntry e;
    e.id = get_string(r, "unified", where);
    e.concept = base ? base->concept : e.id;
    e.category = base ? base->category : get_string(r, "category", where, false);
    e.subcategory = base ? base->subcategory : get_string(r, "subcategory", where, false);
    e.skin_tone = tone_of(e.id);
    const std::string key = emoji_key(e.id);
    auto en = english.find(key);
    std::string name = base ? "" : lower(get_string(r, "name", where, false));
    if (en != english.end() && !en->second.label.empty()) {
      e.caption = en->second.label;
      e.tags = en->second.tags;
    } else {
      ++data.without_annotation;
      e.caption = base ? base->caption : name;
      if (!base && r.contains("short_names") && r["short_names"].is_array())
        for (const auto& s : r["short_names"])
          if (s.is_string()) e.tags.push_back(s.get<std::string>());
    }
    if (base && e.tags.empty()) e.tags = base->tags;
    for (const auto& [lang, table] : others) {
      auto it = table.find(key);
      if (it != table.end() && !it->second.label.empty() && it->second.label != e.caption)
        e.paraphrases.push_back(it->second.label);
    }
    if (!name.empty() && name != lower(e.caption)) e.paraphrases.push_back(name);
    const std::string image = get_string(r, "image", where);
    if (image.find('/') != std::string::npos || image.find("..") != std::string::npos)
      fail("{}: image name '{}' is not a plain file name", where, image);
    for (const auto& artist : options.artists) {
      auto flag = r.find("has_img_" + artist);
      if (flag == r.end() || !flag->is_boolean() || !flag->get<bool>()) continue;
      std::string path = join_path(data_dir, "img/" + artist + "/64/" + image);
      if (!is_regular_file(path)) continue;
      e.images[artist] = path;
      ++data.images_per_artist[artist];
    }
    return e;
  };

  for (std::size_t i = 0; i < records.size(); ++i) {
    std::string where = fmt::format("{}: record {}", emoji_json, i);
    const json& r = records[i];
    if (!r.is_object()) fail("{}: not an object", where);
    EmojiEntry base = make_entry(r, where, nullptr);
    ++data.base_emoji;
    std::vector<EmojiEntry> variants;
    auto skins = r.find("skin_variations");
    if (skins != r.end() && skins->is_object())
      for (auto it = skins->begin(); it != skins->end(); ++it) {
        if (!it->is_object()) fail("{}: skin_variations[{}] is not an object", where, it.key());
        variants.push_back(make_entry(*it, fmt::format("{} skin_variations[{}]", where, it.key()), &base));
        ++data.skin_variants;
      }
    data.entries.push_back(std::move(base));
    for (auto& v : variants) data.entries.push_back(std::move(v));
  }
  return data;
}

std::vector<std::string> held_out_concepts(const std::vector<EmojiEntry>& entries, double fraction,
                                           std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction <= 1.0)) fail("held-out fraction {} is not in [0, 1]", fraction);
  std::vector<std::string> concepts;
  std::set<std::string> seen;
  for (const auto& e : entries)
    if (seen.insert(e.concept).second) concepts.push_back(e.concept);
  std::sort(concepts.begin(), concepts.end(), [&](const std::string& a, const std::string& b) {
    auto ha = fnv1a(seed, a), hb = fnv1a(seed, b);
    return ha != hb ? ha < hb : a < b;
  });
  concepts.resize(static_cast<std::size_t>(std::llround(fraction * static_cast<double>(concepts.size()))));
  std::sort(concepts.begin(), concepts.end());
  return concepts;
}

EmojiWriteSummary write_emoji_captions(const EmojiData& data, const std::string& out_dir, double heldout_fraction,
                                       std::uint64_t seed) {
  ensure_directory(out_dir);
  auto heldout = held_out_concepts(data.entries, heldout_fraction, seed);
  std::set<std::string> heldout_set(heldout.begin(), heldout.end());
  EmojiWriteSummary summary;
  std::set<std::string> concepts;
  for (const auto& e : data.entries) concepts.insert(e.concept);
  summary.concepts = static_cast<std::int64_t>(concepts.size());
  summary.heldout_concepts = static_cast<std::int64_t>(heldout.size());
  const fs::path out_abs = fs::absolute(out_dir).lexically_normal();
  for (const auto& [artist, count] : data.images_per_artist) {
    std::string text;
    auto& train = summary.train_lines[artist];
    auto& held = summary.heldout_lines[artist];
    for (const auto& e : data.entries) {
      auto it = e.images.find(artist);
      if (it == e.images.end()) continue;
      const bool is_held = heldout_set.count(e.concept) > 0;
      json line = {{"image", fs::absolute(it->second).lexically_normal().lexically_relative(out_abs).string()},
                   {"image_id", fs::path(it->second).stem().string()},
                   {"caption", e.caption},
                   {"paraphrases", e.paraphrases},
                   {"tags", e.tags},
                   {"concept", e.concept},
                   {"split", is_held ? "heldout" : "train"},
                   {"category", e.category},
                   {"subcategory", e.subcategory},
                   {"skin_tone", e.skin_tone}};
      text += line.dump() + "\n";
      ++(is_held ? held : train);
    }
    write_file_atomically(join_path(out_dir, artist + ".jsonl"), text);
  }
  std::string list;
  for (const auto& c : heldout) list += c + "\n";
  write_file_atomically(join_path(out_dir, "heldout.txt"), list);
  json s = {{"base_emoji", data.base_emoji},
            {"skin_variants", data.skin_variants},
            {"without_english_annotation", data.without_annotation},
            {"images_per_artist", data.images_per_artist},
            {"labels_per_language", data.labels_per_language},
            {"concepts", summary.concepts},
            {"heldout_concepts", summary.heldout_concepts},
            {"heldout_fraction", heldout_fraction},
            {"seed", seed},
            {"train_lines", summary.train_lines},
            {"heldout_lines", summary.heldout_lines}};
  write_file_atomically(join_path(out_dir, "summary.json"), s.dump(2) + "\n");
  return summary;
}

}  // namespace cotrain::data
