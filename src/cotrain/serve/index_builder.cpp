#include "cotrain/serve/index_builder.h"

#include <ATen/ATen.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/core/log.h"
#include "cotrain/data/captions.h"
#include "cotrain/data/regions_tsv.h"
#include "cotrain/data/shards_prepare.h"
#include "cotrain/serve/embedding_index.h"
#include "cotrain/serve/thumbnail.h"
#include "cotrain/train/progress_display.h"

namespace cotrain::serve {

namespace {

struct PendingImage {
  std::string id, path;
};

// Images from files: decoded, thumbnailed into the index, embedded in batches.
void add_image_files(UnimoEncoder& encoder, const std::vector<PendingImage>& files, const std::string& out_dir,
                     const IndexBuildOptions& o, EmbeddingIndex& index, std::vector<at::Tensor>& parts,
                     IndexStats& stats) {
  train::ProgressDisplay progress(static_cast<int64_t>(files.size()), "images", 100);
  for (size_t begin = 0; begin < files.size(); begin += static_cast<size_t>(o.batch_size)) {
    const size_t end = std::min(files.size(), begin + static_cast<size_t>(o.batch_size));
    std::vector<io::Image> batch;
    for (size_t i = begin; i < end; ++i) {
      io::Image image = io::load_image(files[i].path);
      const int64_t number = static_cast<int64_t>(index.image_entries.size());
      const std::string thumb = thumbnail_name(number);
      write_file_atomically(join_path(out_dir, thumb), thumbnail_png(image, o.thumbnail_size));
      ++stats.thumbnails;
      index.image_entries.push_back({files[i].id, thumb, files[i].path});
      batch.push_back(std::move(image));
    }
    parts.push_back(encoder.encode_images(batch));
    progress.update(static_cast<int64_t>(end), "");
  }
  progress.finish();
}

void add_texts(UnimoEncoder& encoder, const std::vector<TextEntry>& texts, const IndexBuildOptions& o,
               EmbeddingIndex& index, std::vector<at::Tensor>& parts) {
  train::ProgressDisplay progress(static_cast<int64_t>(texts.size()), "texts", 1000);
  for (size_t begin = 0; begin < texts.size(); begin += static_cast<size_t>(o.batch_size)) {
    const size_t end = std::min(texts.size(), begin + static_cast<size_t>(o.batch_size));
    std::vector<std::string> batch;
    for (size_t i = begin; i < end; ++i) {
      batch.push_back(texts[i].text);
      index.text_entries.push_back(texts[i]);
    }
    parts.push_back(encoder.encode_texts(batch));
    progress.update(static_cast<int64_t>(end), "");
  }
  progress.finish();
}

std::vector<TextEntry> read_text_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open the texts file", path);
  std::vector<TextEntry> out;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    out.push_back({"line " + std::to_string(number), line, ""});
  }
  return out;
}

at::Tensor stack(const std::vector<at::Tensor>& parts, int64_t dim) {
  return parts.empty() ? at::zeros({0, dim}) : at::cat(parts, 0).contiguous();
}

}  // namespace

IndexStats build_index(UnimoEncoder& encoder, const IndexSources& s, const std::string& out_dir,
                       const IndexBuildOptions& o) {
  const int given = !s.images.empty() + !s.regions.empty() + !s.captions.empty();
  if (given > 1) fail("index: give one of --images, --regions, --captions");
  if (given == 0 && s.texts.empty()) fail("index: nothing to index (--images, --regions, --captions and/or --texts)");
  if (o.batch_size < 1) fail("index: --batch-size must be at least 1");
  const auto start = std::chrono::steady_clock::now();
  if (is_regular_file(join_path(out_dir, "index.json")))
    log::info("{}: replacing the index there", out_dir);
  ensure_directory(join_path(out_dir, "thumbs"));
  // Thumbnails of an earlier index in this folder would otherwise linger.
  for (const auto& entry : std::filesystem::directory_iterator(join_path(out_dir, "thumbs")))
    if (entry.is_regular_file() && entry.path().extension() == ".png") std::filesystem::remove(entry.path());

  IndexStats stats;
  EmbeddingIndex index;
  std::vector<at::Tensor> image_parts, text_parts;
  std::vector<TextEntry> texts;
  if (!s.images.empty()) {
    std::vector<PendingImage> files;
    for (const auto& path : data::list_images(s.images))
      files.push_back({std::filesystem::path(path).filename().string(), path});
    if (files.empty()) fail("{}: no images", s.images);
    add_image_files(encoder, files, out_dir, o, index, image_parts, stats);
  } else if (!s.captions.empty()) {
    auto captions = data::read_captions(s.captions);
    if (captions.empty()) fail("{}: no captions", s.captions);
    data::check_caption_images(captions, s.captions);
    std::vector<PendingImage> files;
    std::map<std::string, bool> seen;
    for (const auto& c : captions) {
      if (!seen.emplace(c.image_key, true).second) continue;
      files.push_back({c.image_key, c.image_path});
    }
    add_image_files(encoder, files, out_dir, o, index, image_parts, stats);
    if (s.texts.empty())
      for (const auto& c : captions)
        texts.push_back({fmt::format("{}:{}", s.captions, c.record), c.text, c.image_key});
  } else if (!s.regions.empty()) {
    data::RegionsTsvReader reader(s.regions);
    data::Regions r;
    std::vector<data::Regions> batch;
    train::ProgressDisplay progress(0, "images", 100);
    int64_t done = 0;
    auto flush = [&] {
      if (batch.empty()) return;
      image_parts.push_back(encoder.encode_regions(batch));
      done += static_cast<int64_t>(batch.size());
      batch.clear();
      progress.update(done, "");
    };
    while (reader.next(r)) {
      index.image_entries.push_back({r.image_id, "", fmt::format("{}:{}", s.regions, reader.line_number())});
      batch.push_back(r);
      if (static_cast<int64_t>(batch.size()) == o.batch_size) flush();
    }
    flush();
    progress.finish();
    if (index.image_entries.empty()) fail("{}: no images", s.regions);
  }
  if (!s.texts.empty()) {
    texts = read_text_lines(s.texts);
    if (texts.empty()) fail("{}: no texts", s.texts);
  }
  add_texts(encoder, texts, o, index, text_parts);

  index.images = stack(image_parts, encoder.dim());
  index.texts = stack(text_parts, encoder.dim());
  const auto& g = encoder.options().grid;
  // Absolute, so that `cotrain serve` finds the model from any working folder.
  const std::string model_path = std::filesystem::absolute(encoder.model_dir()).lexically_normal().string();
  index.meta = {{"model", model_path},
                {"max_regions", encoder.options().max_regions},
                {"grid", {{"image_size", g.image_size}, {"grid", g.grid}, {"pool", g.pool}}}};
  write_index(out_dir, index);
  stats.images = index.images.size(0);
  stats.texts = index.texts.size(0);
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace cotrain::serve
