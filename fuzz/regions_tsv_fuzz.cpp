// Region-feature TSV reader on arbitrary lines. The first byte picks the options
// (free, fixed feature size, classes required / forbidden), the rest is the file.
#include <cstddef>
#include <cstdint>

#include "cotrain/core/error.h"
#include "cotrain/data/regions_tsv.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  cotrain::data::RegionsTsvOptions options;
  options.feature_dim = (data[0] & 1) ? 4 : 0;
  options.num_classes = static_cast<int64_t>((data[0] >> 1) % 3) - 1;  // -1, 0, 1
  const std::string path = cotrain::fuzz::write_scratch("regions.tsv", data + 1, size - 1);
  try {
    for (const auto& r : cotrain::data::read_regions_tsv(path, options)) {
      // What consumers do with a record the reader accepted.
      volatile float sum = 0;
      for (int64_t i = 0; i < r.num_boxes; ++i) {
        sum += r.box(i)[3] + r.feature(i)[r.feature_dim - 1];
        if (r.num_classes > 0) sum += r.class_prob(i)[r.num_classes - 1];
      }
      (void)cotrain::data::encode_boxes(r);
    }
  } catch (const cotrain::Error&) {
  }
  return 0;
}
