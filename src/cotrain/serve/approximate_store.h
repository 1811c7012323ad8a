// Approximate indexes kept beside an index folder's embeddings, built once by
// `cotrain index --approximate ivf|hnsw` and loaded by `cotrain serve`:
//   INDEX/images.faiss, INDEX/texts.faiss   (faiss's own format; only for a
//                                            non-empty side)
//   index.json "approximate": {"kind", the settings as asked (approximate_index.h),
//     "files": {"images": {"file": "images.faiss", "sha256": HEX, "built": the
//               settings as resolved for that side}, ...},
//     "recall": {"images": measurement, "texts": measurement}}
// The checksum is checked before faiss reads a file (faiss's reader trusts its
// input), and index.json is rewritten last, so an interrupted build leaves the exact
// index as it was. A later plain `cotrain index` into the folder drops the section.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "cotrain/serve/approximate_index.h"
#include "cotrain/serve/embedding_index.h"

namespace cotrain::serve {

struct ApproximatePair {
  std::unique_ptr<ApproximateIndex> images, texts;  // null for an empty side
  bool empty() const { return !images && !texts; }
};

// recall@k of `index` against exact search over `rows` ([N, H]) for each query
// row ([Q, H] unit rows), and the time per query both ways (one query at a time;
// exact search uses LibTorch's threads, approximate search one thread).
struct RecallMeasurement {
  int64_t queries = 0, k = 0;
  double recall = 0;  // mean over queries of |approximate top-k ∩ exact top-k| / min(k, N)
  double exact_ms_mean = 0, exact_ms_p50 = 0, exact_ms_p99 = 0;
  double approx_ms_mean = 0, approx_ms_p50 = 0, approx_ms_p99 = 0;
  nlohmann::json to_json() const;
};
RecallMeasurement measure_recall(const at::Tensor& rows, const ApproximateIndex& index, const at::Tensor& queries,
                                 int64_t k);

// Queries for measuring recall on one side of an index: up to `count` rows of the
// other side (text queries for the images, image queries for the texts), evenly
// spaced; when the other side is empty, the side's own rows with seeded noise
// (norm 0.5 before re-normalising), so that no query is its own answer.
at::Tensor recall_queries(const at::Tensor& side, const at::Tensor& other, int64_t count);

// Builds both sides' approximate indexes for the index folder `dir`, writes them,
// measures recall@10 over `recall_count` queries per side (0: skip), and records it
// all in index.json; progress lines go to `log`. Returns the "approximate" section.
nlohmann::json add_approximate_index(const std::string& dir, const ApproximateOptions& options, int64_t recall_count,
                                     std::ostream& log);

// The approximate indexes `index` announces (checksums verified), or an empty pair
// when index.json has none. `breadth` > 0 overrides nprobe (ivf) / ef_search (hnsw).
ApproximatePair load_approximate(const EmbeddingIndex& index, int64_t breadth = 0);

}  // namespace cotrain::serve
