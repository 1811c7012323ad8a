#include "cotrain/data/shards_prepare.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/data/regions_tsv.h"
#include "cotrain/data/shards.h"
#include "cotrain/io/image.h"

namespace cotrain::data {
namespace {

namespace fs = std::filesystem;

// Rolls over to a new shard every images_per_shard images; writes index.json at the end.
class ShardSink {
 public:
  explicit ShardSink(const PrepareOptions& options) : options_(options) {
    if (options_.out_dir.empty()) fail("prepare: no output folder");
    if (options_.images_per_shard <= 0) fail("prepare: images per shard must be positive");
    ensure_directory(options_.out_dir);
    // Old shards from an earlier run would be picked up by ShardSet: remove them.
    for (const auto& entry : fs::directory_iterator(options_.out_dir)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("shard-", 0) == 0 && entry.path().extension() == ".bin") fs::remove(entry.path());
    }
  }

  void add(Regions regions, const std::vector<const Caption*>& captions) {
    if (options_.transform) options_.transform(regions);
    if (!writer_) {
      if (stats_.images == 0) {
        stats_.feature_dim = regions.feature_dim;
        stats_.num_classes = regions.num_classes;
      }
      current_file_ = fmt::format("shard-{:05d}.bin", stats_.shards);
      writer_ = std::make_unique<ShardWriter>(join_path(options_.out_dir, current_file_), stats_.feature_dim,
                                              stats_.num_classes);
    }
    const std::uint32_t index = writer_->add_image(regions);
    for (const Caption* c : captions) writer_->add_caption(*c, index);
    ++stats_.images;
    stats_.captions += static_cast<std::int64_t>(captions.size());
    if (writer_->num_images() >= options_.images_per_shard) close_shard();
  }

  PrepareStats finish(const nlohmann::json& extra) {
    close_shard();
    if (stats_.images == 0) fail("prepare: nothing to write (no images with regions)");
    nlohmann::json index = {{"format", "cotrain image-text shards v1 (see src/cotrain/data/shards.h)"},
                            {"source", options_.description},
                            {"feature_dim", stats_.feature_dim},
                            {"num_classes", stats_.num_classes},
                            {"images", stats_.images},
                            {"captions", stats_.captions},
                            {"skipped_images", stats_.skipped_images},
                            {"skipped_captions", stats_.skipped_captions},
                            {"shards", shard_list_}};
    index.update(extra);
    write_file_atomically(join_path(options_.out_dir, "index.json"), index.dump(2) + "\n");
    return stats_;
  }

  PrepareStats& stats() { return stats_; }

 private:
  void close_shard() {
    if (!writer_) return;
    writer_->finish();
    shard_list_.push_back({{"file", current_file_}, {"images", writer_->num_images()}, {"captions", writer_->num_captions()}});
    writer_.reset();
    ++stats_.shards;
  }

  const PrepareOptions& options_;
  std::unique_ptr<ShardWriter> writer_;
  std::string current_file_;
  nlohmann::json shard_list_ = nlohmann::json::array();
  PrepareStats stats_;
};

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

}  // namespace

PrepareStats prepare_from_tsv(const std::vector<Caption>& captions, const std::string& caption_source,
                              const std::vector<std::string>& tsv_files, const PrepareOptions& options) {
  if (tsv_files.empty()) fail("prepare: no region feature files");
  std::unordered_map<std::string, std::vector<const Caption*>> by_key;
  for (const auto& c : captions) by_key[c.image_key].push_back(&c);
  std::unordered_set<std::string> written;
  ShardSink sink(options);
  RegionsTsvOptions tsv_options;
  Regions regions;
  for (const auto& file : tsv_files) {
    RegionsTsvReader reader(file, tsv_options);
    while (true) {
      try {
        if (!reader.next(regions)) break;
      } catch (const Error&) {
        if (!options.skip_bad_records) throw;
        ++sink.stats().skipped_images;
        continue;
      }
      if (written.count(regions.image_id)) continue;  // duplicate line: first one wins
      if (captions.empty()) {
        written.insert(regions.image_id);
        sink.add(std::move(regions), {});
        continue;
      }
      auto it = by_key.find(regions.image_id);
      if (it == by_key.end()) continue;  // regions of an image without captions here
      written.insert(regions.image_id);
      sink.add(std::move(regions), it->second);
    }
    // Later files must agree with the first on D and C.
    tsv_options.feature_dim = reader.feature_dim();
    tsv_options.num_classes = reader.num_classes();
  }
  for (const auto& c : captions) {
    if (written.count(c.image_key)) continue;
    if (!options.skip_bad_records)
      fail("{}: record {}: no regions for image '{}' in {}{}", caption_source, c.record, c.image_key,
           tsv_files.front(), tsv_files.size() > 1 ? " and the other region files" : "");
    ++sink.stats().skipped_captions;
  }
  return sink.finish({{"regions", tsv_files}});
}

PrepareStats prepare_from_images(const std::vector<Caption>& captions, const std::string& caption_source,
                                 const std::vector<std::string>& extra_images, const GridOptions& grid,
                                 const PrepareOptions& options) {
  check_grid_options(grid);
  // Unique images in first-appearance order, each with its captions.
  struct Item {
    std::string path, key;
    std::int64_t record = -1;  // first caption's record, for errors
    std::vector<const Caption*> captions;
  };
  std::vector<Item> items;
  std::unordered_map<std::string, std::size_t> index_of;
  for (const auto& c : captions) {
    auto [it, fresh] = index_of.emplace(c.image_path, items.size());
    if (fresh) items.push_back({c.image_path, c.image_key, c.record, {}});
    items[it->second].captions.push_back(&c);
  }
  for (const auto& p : extra_images) {
    auto [it, fresh] = index_of.emplace(p, items.size());
    if (fresh) items.push_back({p, p, -1, {}});
  }
  auto where = [&](const Item& item) {
    return item.record >= 0 ? fmt::format("{}: record {}: ", caption_source, item.record) : std::string();
  };
  ShardSink sink(options);
  const int threads = std::max(1, options.threads);
  const std::size_t chunk = 256;
  std::vector<Regions> done(chunk);
  std::vector<std::string> errors(chunk);
  for (std::size_t start = 0; start < items.size(); start += chunk) {
    const std::size_t count = std::min(chunk, items.size() - start);
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t k; (k = next++) < count;) {
        const Item& item = items[start + k];
        errors[k].clear();
        try {
          if (!is_regular_file(item.path)) fail("image '{}' not found", item.path);
          done[k] = grid_regions(io::load_image(item.path), grid, item.key);
        } catch (const Error& e) {
          errors[k] = e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    for (std::size_t k = 0; k < count; ++k) {
      const Item& item = items[start + k];
      if (!errors[k].empty()) {
        if (!options.skip_bad_records) fail("{}{}", where(item), errors[k]);
        ++sink.stats().skipped_images;
        sink.stats().skipped_captions += static_cast<std::int64_t>(item.captions.size());
        continue;
      }
      sink.add(std::move(done[k]), item.captions);
    }
  }
  nlohmann::json grid_json = {{"image_size", grid.image_size}, {"grid", grid.grid}, {"pool", grid.pool},
                              {"mean", grid.mean}, {"std", grid.std}};
  return sink.finish({{"grid", grid_json}});
}

std::vector<std::string> list_images(const std::string& dir_or_list) {
  std::vector<std::string> out;
  if (is_directory(dir_or_list)) {
    for (const auto& entry : fs::directory_iterator(dir_or_list))
      if (entry.is_regular_file() && is_image_name(entry.path())) out.push_back(entry.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::ifstream in(dir_or_list);
  if (!in) fail("{}: neither a folder nor a readable list of image paths", dir_or_list);
  const std::string root = parent_directory(dir_or_list);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    out.push_back(fs::path(line).is_absolute() ? line : join_path(root, line));
  }
  return out;
}

}  // namespace cotrain::data
