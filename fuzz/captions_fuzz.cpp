// Caption readers (COCO, Karpathy, JSON lines, and format detection) on arbitrary
// bytes. The first byte picks the reader and a split filter.
#include <cstddef>
#include <cstdint>

#include "cotrain/core/error.h"
#include "cotrain/data/captions.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using cotrain::data::CaptionFormat;
  static const CaptionFormat formats[] = {CaptionFormat::automatic, CaptionFormat::coco, CaptionFormat::karpathy,
                                          CaptionFormat::jsonl};
  cotrain::data::CaptionOptions options;
  options.format = formats[data[0] & 3];
  options.image_root = "/nonexistent-images";
  if (data[0] & 4) options.splits = "train,restval";
  const bool jsonl_name = data[0] & 8;
  const std::string path =
      cotrain::fuzz::write_scratch(jsonl_name ? "captions.jsonl" : "captions.json", data + 1, size - 1);
  try {
    volatile size_t total = 0;
    for (const auto& c : cotrain::data::read_captions(path, options))
      total += c.text.size() + c.image_path.size() + c.paraphrases.size() + c.tags.size();
  } catch (const cotrain::Error&) {
  }
  return 0;
}
