// `cotrain index`: embeds a collection once, in batches, with progress on stderr.
// Images come from a folder of image files, a bottom-up-attention region TSV (no
// thumbnails: there are no pixels), or a captions file (its images, and its captions
// as the texts unless a texts file is given).
#pragma once
#include <cstdint>
#include <string>

#include "cotrain/serve/unimo_encoder.h"

namespace cotrain::serve {

struct IndexSources {
  std::string images;    // folder of PNG/JPEG files, or a file listing image paths
  std::string regions;   // region feature TSV
  std::string captions;  // captions (JSONL / COCO / Karpathy): images and texts
  std::string texts;     // one text per line (blank lines skipped; id = line number)
};

struct IndexBuildOptions {
  int64_t batch_size = 32;
  int64_t thumbnail_size = 96;
};

struct IndexStats {
  int64_t images = 0, texts = 0, thumbnails = 0;
  double seconds = 0;
};

IndexStats build_index(UnimoEncoder& encoder, const IndexSources& sources, const std::string& out_dir,
                       const IndexBuildOptions& options);

}  // namespace cotrain::serve
