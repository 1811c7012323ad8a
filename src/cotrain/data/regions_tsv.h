// Bottom-up-attention region feature files (formats.md): one image per line,
//   image_id \t image_w \t image_h \t num_boxes \t boxes \t features [\t cls_prob]
// with boxes / features / cls_prob base64 of little-endian float32 arrays shaped
// (N,4) xyxy pixels, (N,D), (N,C). Every field of every line is validated; an error
// names the file, the line, the image_id and the field.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "cotrain/data/regions.h"

namespace cotrain::data {

struct RegionsTsvOptions {
  // Feature size D. 0: taken from the first line, then required of every line.
  std::int64_t feature_dim = 0;
  // Class count C. -1: cls_prob optional, but present on all lines or none, with one
  // C for the whole file; 0: cls_prob must be absent; > 0: required with this C.
  std::int64_t num_classes = -1;
};

class RegionsTsvReader {
 public:
  explicit RegionsTsvReader(std::string path, RegionsTsvOptions options = {});
  // Reads the next image into `out`; false at the end of the file. Blank lines are
  // skipped. Throws cotrain::Error on any malformed line.
  bool next(Regions& out);
  // 1-based number of the line read last.
  std::int64_t line_number() const { return line_number_; }
  const std::string& path() const { return path_; }
  // D and C as fixed so far (0 / -1 until the first line is read).
  std::int64_t feature_dim() const { return options_.feature_dim; }
  std::int64_t num_classes() const { return options_.num_classes; }

 private:
  [[noreturn]] void fail_field(const std::string& image_id, const char* field, const std::string& why) const;
  std::string path_;
  RegionsTsvOptions options_;
  std::ifstream in_;
  std::string line_;
  std::int64_t line_number_ = 0;
};

// Reads a whole file.
std::vector<Regions> read_regions_tsv(const std::string& path, RegionsTsvOptions options = {});

// One line in the same format, without the newline; cls_prob is written when the
// regions have class probabilities.
std::string format_regions_tsv_line(const Regions& regions);

// Writes lines to a file (created or truncated); throws cotrain::Error on I/O failure.
class RegionsTsvWriter {
 public:
  explicit RegionsTsvWriter(std::string path);
  void write(const Regions& regions);
  void close();  // flushes and checks for write errors; also run by the destructor
  ~RegionsTsvWriter();

 private:
  std::string path_;
  std::ofstream out_;
};

void write_regions_tsv(const std::string& path, const std::vector<Regions>& all);

}  // namespace cotrain::data
