#include "cotrain/data/shards.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"

namespace cotrain::data {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kHeaderSize = 64, kImageEntrySize = 48, kCaptionEntrySize = 32, kAlign = 64;

bool little_endian_host() {
  const std::uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

void require_little_endian(const std::string& path) {
  if (!little_endian_host()) fail("{}: shards are little-endian; this big-endian host cannot map them", path);
}

void put32(std::string& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put64(std::string& b, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b += static_cast<char>((v >> (8 * i)) & 0xFF);
}
std::uint32_t get32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
std::uint64_t get64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint32_t checked_u32(std::int64_t v, const char* what, const std::string& path) {
  if (v < 0 || v > std::numeric_limits<std::uint32_t>::max()) fail("{}: {} {} does not fit the shard format", path, what, v);
  return static_cast<std::uint32_t>(v);
}

std::string caption_meta(const Caption& c) {
  nlohmann::json meta = nlohmann::json::object();
  if (!c.paraphrases.empty()) meta["paraphrases"] = c.paraphrases;
  if (!c.tags.empty()) meta["tags"] = c.tags;
  if (!c.concept.empty()) meta["concept"] = c.concept;
  if (!c.split.empty()) meta["split"] = c.split;
  if (!c.image_path.empty()) meta["image_path"] = c.image_path;
  return meta.empty() ? std::string() : meta.dump();
}

}  // namespace

// ---------------------------------------------------------------- writer

ShardWriter::ShardWriter(std::string path, std::int64_t feature_dim, std::int64_t num_classes)
    : path_(std::move(path)), temp_path_(path_ + ".partial"), feature_dim_(feature_dim), num_classes_(num_classes) {
  require_little_endian(path_);
  if (feature_dim_ <= 0) fail("{}: feature size {} is not positive", path_, feature_dim_);
  if (num_classes_ < 0) fail("{}: class count {} is negative", path_, num_classes_);
  checked_u32(feature_dim_, "feature size", path_);
  checked_u32(num_classes_, "class count", path_);
  out_.open(temp_path_, std::ios::binary | std::ios::trunc);
  if (!out_) fail("{}: cannot create shard file", temp_path_);
  out_.write(std::string(kHeaderSize, '\0').data(), kHeaderSize);
  position_ = kHeaderSize;
}

ShardWriter::~ShardWriter() {
  if (!finished_) {
    out_.close();
    std::remove(temp_path_.c_str());
  }
}

std::uint64_t ShardWriter::append_floats(const std::vector<float>& values) {
  const std::uint64_t pad = (kAlign - position_ % kAlign) % kAlign;
  if (pad) out_.write(std::string(pad, '\0').data(), static_cast<std::streamsize>(pad));
  position_ += pad;
  const std::uint64_t offset = position_;
  out_.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.size() * 4));
  position_ += values.size() * 4;
  if (!out_) fail("{}: write failed (disk full?)", temp_path_);
  return offset;
}

std::uint64_t ShardWriter::add_string(const std::string& s) {
  const std::uint64_t offset = strings_.size();
  strings_ += s;
  return offset;
}

std::uint32_t ShardWriter::add_image(const Regions& r) {
  std::string why;
  if (!check_regions(r, why)) fail("{}: image {}: {}", path_, r.image_id, why);
  if (r.feature_dim != feature_dim_)
    fail("{}: image {}: feature size {}, but this shard holds {}", path_, r.image_id, r.feature_dim, feature_dim_);
  if (r.num_classes != num_classes_)
    fail("{}: image {}: {} classes, but this shard holds {}", path_, r.image_id, r.num_classes, num_classes_);
  if (images_.size() >= std::numeric_limits<std::uint32_t>::max()) fail("{}: too many images in one shard", path_);
  ImageEntry e;
  e.key_len = checked_u32(static_cast<std::int64_t>(r.image_id.size()), "image key length", path_);
  e.num_boxes = checked_u32(r.num_boxes, "box count", path_);
  e.width = checked_u32(r.width, "image width", path_);
  e.height = checked_u32(r.height, "image height", path_);
  e.boxes = append_floats(r.boxes);
  e.features = append_floats(r.features);
  e.classes = num_classes_ ? append_floats(r.class_probs) : 0;
  image_key_offsets_.push_back(add_string(r.image_id));
  images_.push_back(e);
  return static_cast<std::uint32_t>(images_.size() - 1);
}

void ShardWriter::add_caption(const Caption& caption, std::uint32_t image_index) {
  if (image_index >= images_.size())
    fail("{}: caption record {}: image index {} not in this shard", path_, caption.record, image_index);
  CaptionEntry e;
  e.text_len = checked_u32(static_cast<std::int64_t>(caption.text.size()), "caption length", path_);
  e.text_offset = add_string(caption.text);
  e.image_index = image_index;
  std::string meta = caption_meta(caption);
  e.meta_len = static_cast<std::uint32_t>(meta.size());
  e.meta_offset = meta.empty() ? 0 : add_string(meta);
  captions_.push_back(e);
}

void ShardWriter::finish() {
  if (finished_) return;
  const std::uint64_t strings_offset = position_;
  out_.write(strings_.data(), static_cast<std::streamsize>(strings_.size()));
  position_ += strings_.size();
  std::string tables(static_cast<std::size_t>((8 - position_ % 8) % 8), '\0');
  const std::uint64_t image_table = position_ + tables.size();
  for (std::size_t i = 0; i < images_.size(); ++i) {
    const auto& e = images_[i];
    put64(tables, strings_offset + image_key_offsets_[i]);
    put32(tables, e.key_len);
    put32(tables, e.num_boxes);
    put32(tables, e.width);
    put32(tables, e.height);
    put64(tables, e.boxes);
    put64(tables, e.features);
    put64(tables, e.classes);
  }
  const std::uint64_t caption_table = position_ + tables.size();
  for (const auto& e : captions_) {
    put64(tables, strings_offset + e.text_offset);
    put32(tables, e.text_len);
    put32(tables, e.image_index);
    put64(tables, e.meta_len ? strings_offset + e.meta_offset : 0);
    put32(tables, e.meta_len);
    put32(tables, 0);
  }
  out_.write(tables.data(), static_cast<std::streamsize>(tables.size()));
  position_ += tables.size();
  std::string header(kShardMagic, 8);
  put32(header, kShardVersion);
  put32(header, static_cast<std::uint32_t>(feature_dim_));
  put32(header, static_cast<std::uint32_t>(num_classes_));
  put32(header, 0);
  put64(header, images_.size());
  put64(header, captions_.size());
  put64(header, image_table);
  put64(header, caption_table);
  put64(header, position_);
  out_.seekp(0);
  out_.write(header.data(), static_cast<std::streamsize>(header.size()));
  out_.flush();
  if (!out_) fail("{}: write failed (disk full?)", temp_path_);
  out_.close();
  std::error_code ec;
  fs::rename(temp_path_, path_, ec);
  if (ec) fail("{}: cannot rename the finished shard into place: {}", path_, ec.message());
  finished_ = true;
}

// ---------------------------------------------------------------- reader

ShardReader::ShardReader(const std::string& path) : path_(path) {
  require_little_endian(path_);
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open shard: {}", path_, describe_errno(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("{}: not a regular file", path_);
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ < kHeaderSize) {
    ::close(fd);
    fail("{}: {} bytes, too short for a shard header (truncated?)", path_, size_);
  }
  void* map = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) fail("{}: cannot map shard: {}", path_, describe_errno(errno));
  data_ = static_cast<const unsigned char*>(map);
  try {
    if (std::memcmp(data_, kShardMagic, 8) != 0) fail("{}: not a cotrain shard (bad magic)", path_);
    const std::uint32_t version = get32(at(8));
    if (version != kShardVersion) fail("{}: shard version {}, this build reads {}", path_, version, kShardVersion);
    feature_dim_ = get32(at(12));
    num_classes_ = get32(at(16));
    const std::uint64_t n_images = get64(at(24)), n_captions = get64(at(32));
    image_table_ = get64(at(40));
    caption_table_ = get64(at(48));
    const std::uint64_t file_size = get64(at(56));
    if (file_size != size_)
      fail("{}: header says {} bytes but the file has {} (truncated or appended to)", path_, file_size, size_);
    if (feature_dim_ <= 0) fail("{}: header: feature size 0", path_);
    auto fits = [&](std::uint64_t offset, std::uint64_t count, std::uint64_t item) {
      return offset <= size_ && (item == 0 || count <= (size_ - offset) / item);
    };
    if (!fits(image_table_, n_images, kImageEntrySize) || image_table_ < kHeaderSize)
      fail("{}: header: image table ({} entries at {}) outside the file", path_, n_images, image_table_);
    if (!fits(caption_table_, n_captions, kCaptionEntrySize) || caption_table_ < kHeaderSize)
      fail("{}: header: caption table ({} entries at {}) outside the file", path_, n_captions, caption_table_);
    num_images_ = static_cast<std::int64_t>(n_images);
    num_captions_ = static_cast<std::int64_t>(n_captions);
    const auto D = static_cast<std::uint64_t>(feature_dim_), C = static_cast<std::uint64_t>(num_classes_);
    for (std::int64_t i = 0; i < num_images_; ++i) {
      const unsigned char* e = at(image_table_ + kImageEntrySize * static_cast<std::uint64_t>(i));
      const std::uint64_t key = get64(e), boxes = get64(e + 24), features = get64(e + 32), classes = get64(e + 40);
      const std::uint32_t key_len = get32(e + 8), n = get32(e + 12), w = get32(e + 16), h = get32(e + 20);
      if (!fits(key, key_len, 1)) fail("{}: image {}: key outside the file", path_, i);
      if (n == 0 || w == 0 || h == 0) fail("{}: image {}: zero boxes or zero image size", path_, i);
      auto check_array = [&](std::uint64_t offset, std::uint64_t row, const char* what) {
        if (offset % 4 != 0 || offset < kHeaderSize || !fits(offset, n, row * 4))
          fail("{}: image {}: {} array (offset {}, {} x {} floats) outside the file or misaligned", path_, i, what,
               offset, n, row);
      };
      check_array(boxes, 4, "boxes");
      check_array(features, D, "features");
      if (C) check_array(classes, C, "class");
    }
    for (std::int64_t j = 0; j < num_captions_; ++j) {
      const unsigned char* e = at(caption_table_ + kCaptionEntrySize * static_cast<std::uint64_t>(j));
      if (!fits(get64(e), get32(e + 8), 1)) fail("{}: caption {}: text outside the file", path_, j);
      if (get32(e + 12) >= n_images)
        fail("{}: caption {}: image index {} but the shard has {} images", path_, j, get32(e + 12), n_images);
      if (!fits(get64(e + 16), get32(e + 24), 1)) fail("{}: caption {}: meta outside the file", path_, j);
    }
  } catch (...) {
    ::munmap(const_cast<unsigned char*>(data_), size_);
    data_ = nullptr;
    throw;
  }
}

ShardReader::~ShardReader() {
  if (data_) ::munmap(const_cast<unsigned char*>(data_), size_);
}

ShardReader::ShardReader(ShardReader&& o) noexcept
    : path_(std::move(o.path_)),
      data_(o.data_),
      size_(o.size_),
      num_images_(o.num_images_),
      num_captions_(o.num_captions_),
      feature_dim_(o.feature_dim_),
      num_classes_(o.num_classes_),
      image_table_(o.image_table_),
      caption_table_(o.caption_table_) {
  o.data_ = nullptr;
  o.size_ = 0;
}

RegionsView ShardReader::image(std::int64_t index) const {
  if (index < 0 || index >= num_images_) fail("{}: image index {} out of range [0, {})", path_, index, num_images_);
  const unsigned char* e = at(image_table_ + kImageEntrySize * static_cast<std::uint64_t>(index));
  RegionsView v;
  v.image_key = std::string_view(reinterpret_cast<const char*>(at(get64(e))), get32(e + 8));
  v.num_boxes = get32(e + 12);
  v.width = get32(e + 16);
  v.height = get32(e + 20);
  v.feature_dim = feature_dim_;
  v.num_classes = num_classes_;
  v.boxes = reinterpret_cast<const float*>(at(get64(e + 24)));
  v.features = reinterpret_cast<const float*>(at(get64(e + 32)));
  v.class_probs = num_classes_ ? reinterpret_cast<const float*>(at(get64(e + 40))) : nullptr;
  return v;
}

CaptionView ShardReader::caption(std::int64_t index) const {
  if (index < 0 || index >= num_captions_)
    fail("{}: caption index {} out of range [0, {})", path_, index, num_captions_);
  const unsigned char* e = at(caption_table_ + kCaptionEntrySize * static_cast<std::uint64_t>(index));
  CaptionView v;
  v.text = std::string_view(reinterpret_cast<const char*>(at(get64(e))), get32(e + 8));
  v.image_index = get32(e + 12);
  const std::uint32_t meta_len = get32(e + 24);
  if (meta_len) v.meta = std::string_view(reinterpret_cast<const char*>(at(get64(e + 16))), meta_len);
  return v;
}

namespace {

Caption parse_caption(const CaptionView& v, const std::string& where, std::string image_key) {
  Caption c;
  c.text = std::string(v.text);
  c.image_key = std::move(image_key);
  if (v.meta.empty()) return c;
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(v.meta);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: corrupt meta JSON: {}", where, e.what());
  }
  try {
    if (meta.contains("paraphrases")) c.paraphrases = meta["paraphrases"].get<std::vector<std::string>>();
    if (meta.contains("tags")) c.tags = meta["tags"].get<std::vector<std::string>>();
    if (meta.contains("concept")) c.concept = meta["concept"].get<std::string>();
    if (meta.contains("split")) c.split = meta["split"].get<std::string>();
    if (meta.contains("image_path")) c.image_path = meta["image_path"].get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    fail("{}: bad meta field: {}", where, e.what());
  }
  return c;
}

}  // namespace

Caption ShardReader::caption_record(std::int64_t index) const {
  CaptionView v = caption(index);
  Caption c = parse_caption(v, fmt::format("{}: caption {}", path_, index), std::string(image(v.image_index).image_key));
  c.record = index;
  return c;
}

void ShardReader::verify_values() const {
  for (std::int64_t i = 0; i < num_images_; ++i) {
    RegionsView v = image(i);
    auto check = [&](const float* p, std::int64_t count, const char* what) {
      for (std::int64_t k = 0; k < count; ++k)
        if (!std::isfinite(p[k])) fail("{}: image {} ({}): non-finite {} value", path_, i, v.image_key, what);
    };
    check(v.boxes, 4 * v.num_boxes, "box");
    check(v.features, v.feature_dim * v.num_boxes, "feature");
    if (v.class_probs) check(v.class_probs, v.num_classes * v.num_boxes, "class");
  }
}

Regions RegionsView::to_regions() const {
  Regions r;
  r.image_id = std::string(image_key);
  r.width = width;
  r.height = height;
  r.num_boxes = num_boxes;
  r.feature_dim = feature_dim;
  r.num_classes = num_classes;
  r.boxes.assign(boxes, boxes + 4 * num_boxes);
  r.features.assign(features, features + feature_dim * num_boxes);
  if (class_probs) r.class_probs.assign(class_probs, class_probs + num_classes * num_boxes);
  return r;
}

// ---------------------------------------------------------------- set

ShardSet::ShardSet(const std::string& dir_or_file) {
  std::vector<std::string> files;
  if (is_directory(dir_or_file)) {
    for (const auto& entry : fs::directory_iterator(dir_or_file)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("shard-", 0) == 0 && entry.path().extension() == ".bin") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) fail("{}: no shard-*.bin files (run cotrain prepare)", dir_or_file);
  } else {
    files.push_back(dir_or_file);
  }
  for (const auto& f : files) {
    shards_.emplace_back(f);
    const auto& s = shards_.back();
    if (s.feature_dim() != shards_.front().feature_dim() || s.num_classes() != shards_.front().num_classes())
      fail("{}: feature size {} / classes {} differ from {} ({} / {})", f, s.feature_dim(), s.num_classes(),
           shards_.front().path(), shards_.front().feature_dim(), shards_.front().num_classes());
    image_starts_.push_back(image_starts_.back() + s.num_images());
    caption_starts_.push_back(caption_starts_.back() + s.num_captions());
  }
}

namespace {
// Index of the shard holding global item `index`, given cumulative starts.
std::size_t locate(const std::vector<std::int64_t>& starts, std::int64_t index) {
  return static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), index) - starts.begin() - 1);
}
}  // namespace

RegionsView ShardSet::image(std::int64_t index) const {
  if (index < 0 || index >= num_images()) fail("shards: image index {} out of range [0, {})", index, num_images());
  std::size_t s = locate(image_starts_, index);
  return shards_[s].image(index - image_starts_[s]);
}

CaptionView ShardSet::caption(std::int64_t index) const {
  if (index < 0 || index >= num_captions())
    fail("shards: caption index {} out of range [0, {})", index, num_captions());
  std::size_t s = locate(caption_starts_, index);
  CaptionView v = shards_[s].caption(index - caption_starts_[s]);
  v.image_index = static_cast<std::uint32_t>(v.image_index + image_starts_[s]);
  return v;
}

Caption ShardSet::caption_record(std::int64_t index) const {
  if (index < 0 || index >= num_captions())
    fail("shards: caption index {} out of range [0, {})", index, num_captions());
  std::size_t s = locate(caption_starts_, index);
  Caption c = shards_[s].caption_record(index - caption_starts_[s]);
  c.record = index;
  return c;
}

}  // namespace cotrain::data
