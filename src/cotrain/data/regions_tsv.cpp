#include "cotrain/data/regions_tsv.h"

#include <cmath>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "cotrain/core/error.h"
#include "cotrain/io/base64.h"

namespace cotrain::data {
namespace {

constexpr const char* kFieldNames[] = {"image_id", "image_w", "image_h", "num_boxes", "boxes", "features", "cls_prob"};

// Splits on tabs without copying.
std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    std::size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

// An integer field; "640" and "640.0" are both accepted (some writers go through
// floats), "640.5", "" and "12abc" are not.
bool parse_integer(std::string_view text, std::int64_t& value) {
  if (text.empty() || text.size() > 30) return false;
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == 0 && end == s.c_str() + s.size()) {
    value = v;
    return true;
  }
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 1e15)
    return false;
  value = static_cast<std::int64_t>(d);
  return true;
}

std::string base64_hint(std::string_view field) {
  if (field.size() >= 2 && field[0] == 'b' && (field[1] == '\'' || field[1] == '"'))
    return " (the field looks like a Python bytes literal b'...': decode the base64 bytes to str before writing)";
  return "";
}

}  // namespace

RegionsTsvReader::RegionsTsvReader(std::string path, RegionsTsvOptions options)
    : path_(std::move(path)), options_(options), in_(path_, std::ios::binary) {
  if (!in_) fail("{}: cannot open region feature file", path_);
}

void RegionsTsvReader::fail_field(const std::string& image_id, const char* field, const std::string& why) const {
  fail("{}: line {}: image {}: {}: {}", path_, line_number_, image_id.empty() ? "?" : image_id, field, why);
}

bool RegionsTsvReader::next(Regions& out) {
  while (true) {
    if (!std::getline(in_, line_)) {
      if (in_.bad()) fail("{}: read error after line {}", path_, line_number_);
      return false;
    }
    ++line_number_;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (!line_.empty()) break;
  }
  auto fields = split_tabs(line_);
  out.image_id = std::string(fields[0]);
  const std::string& id = out.image_id;
  if (fields.size() < 6 || fields.size() > 7) {
    fail("{}: line {}: image {}: {} tab-separated fields, expected 6 or 7 "
         "(image_id, image_w, image_h, num_boxes, boxes, features[, cls_prob]){}",
         path_, line_number_, id.empty() ? "?" : id, fields.size(),
         fields.size() < 6 ? " - truncated line?" : "");
  }
  if (id.empty()) fail_field(id, "image_id", "empty");
  std::int64_t ints[3];
  for (int k = 0; k < 3; ++k) {
    if (!parse_integer(fields[1 + k], ints[k]))
      fail_field(id, kFieldNames[1 + k], fmt::format("'{}' is not an integer", fields[1 + k].substr(0, 40)));
  }
  out.width = ints[0];
  out.height = ints[1];
  out.num_boxes = ints[2];
  if (out.width <= 0) fail_field(id, "image_w", fmt::format("{} is not positive", out.width));
  if (out.height <= 0) fail_field(id, "image_h", fmt::format("{} is not positive", out.height));
  if (out.num_boxes <= 0) fail_field(id, "num_boxes", fmt::format("{} is not positive", out.num_boxes));
  const auto n = static_cast<std::size_t>(out.num_boxes);

  std::string why;
  auto decode = [&](int index, std::vector<float>& values) {
    if (!io::base64_decode_floats(fields[index], values, why))
      fail_field(id, kFieldNames[index], why + base64_hint(fields[index]));
  };
  decode(4, out.boxes);
  if (out.boxes.size() != n * 4)
    fail_field(id, "boxes", fmt::format("{} float32 values, but num_boxes {} needs {}", out.boxes.size(), n, n * 4));

  decode(5, out.features);
  if (out.features.size() % n != 0)
    fail_field(id, "features",
               fmt::format("{} float32 values are not num_boxes {} x a whole feature size", out.features.size(), n));
  out.feature_dim = static_cast<std::int64_t>(out.features.size() / n);
  if (options_.feature_dim == 0) {
    options_.feature_dim = out.feature_dim;  // fixed by the first line
  } else if (out.feature_dim != options_.feature_dim) {
    fail_field(id, "features",
               fmt::format("{} float32 values = num_boxes {} x {}, expected feature size {}", out.features.size(), n,
                           out.feature_dim, options_.feature_dim));
  }

  const bool has_cls = fields.size() == 7;
  if (has_cls) {
    if (options_.num_classes == 0)
      fail_field(id, "cls_prob", "present, but absent on earlier lines (or not expected)");
    decode(6, out.class_probs);
    if (out.class_probs.size() % n != 0)
      fail_field(id, "cls_prob",
                 fmt::format("{} float32 values are not num_boxes {} x a whole class count", out.class_probs.size(), n));
    out.num_classes = static_cast<std::int64_t>(out.class_probs.size() / n);
    if (options_.num_classes < 0) {
      options_.num_classes = out.num_classes;
    } else if (out.num_classes != options_.num_classes) {
      fail_field(id, "cls_prob",
                 fmt::format("{} float32 values = num_boxes {} x {}, expected {} classes", out.class_probs.size(), n,
                             out.num_classes, options_.num_classes));
    }
  } else {
    if (options_.num_classes > 0)
      fail_field(id, "cls_prob", fmt::format("missing (expected {} classes per box)", options_.num_classes));
    options_.num_classes = 0;
    out.num_classes = 0;
    out.class_probs.clear();
  }

  if (!check_regions(out, why)) {
    auto colon = why.find(':');
    std::string field = colon == std::string::npos ? "regions" : why.substr(0, colon);
    std::string rest = colon == std::string::npos ? why : why.substr(colon + 2);
    fail_field(id, field.c_str(), rest);
  }
  return true;
}

std::vector<Regions> read_regions_tsv(const std::string& path, RegionsTsvOptions options) {
  RegionsTsvReader reader(path, options);
  std::vector<Regions> all;
  Regions r;
  while (reader.next(r)) all.push_back(std::move(r));
  return all;
}

std::string format_regions_tsv_line(const Regions& r) {
  std::string line = fmt::format("{}\t{}\t{}\t{}\t", r.image_id, r.width, r.height, r.num_boxes);
  line += io::base64_encode_floats(r.boxes.data(), r.boxes.size());
  line += '\t';
  line += io::base64_encode_floats(r.features.data(), r.features.size());
  if (!r.class_probs.empty()) {
    line += '\t';
    line += io::base64_encode_floats(r.class_probs.data(), r.class_probs.size());
  }
  return line;
}

RegionsTsvWriter::RegionsTsvWriter(std::string path) : path_(std::move(path)), out_(path_, std::ios::binary) {
  if (!out_) fail("{}: cannot create region feature file", path_);
}

void RegionsTsvWriter::write(const Regions& regions) {
  if (regions.image_id.find_first_of("\t\n\r") != std::string::npos)
    fail("{}: image id '{}' contains a tab or newline", path_, regions.image_id);
  out_ << format_regions_tsv_line(regions) << '\n';
  if (!out_) fail("{}: write failed (disk full?)", path_);
}

void RegionsTsvWriter::close() {
  if (!out_.is_open()) return;
  out_.flush();
  bool ok = static_cast<bool>(out_);
  out_.close();
  if (!ok) fail("{}: write failed (disk full?)", path_);
}

RegionsTsvWriter::~RegionsTsvWriter() {
  try {
    close();
  } catch (...) {
  }
}

void write_regions_tsv(const std::string& path, const std::vector<Regions>& all) {
  RegionsTsvWriter writer(path);
  for (const auto& r : all) writer.write(r);
  writer.close();
}

}  // namespace cotrain::data
