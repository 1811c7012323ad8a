// Approximate nearest-neighbour search over one matrix of unit rows (faiss, Debian
// libfaiss-dev), for collections too large to scan on every query. faiss stays
// behind this header: only approximate_index.cpp includes it, and without the
// library (COTRAIN_HAVE_FAISS unset) build/load fail with a message saying so.
//   ivf:  IndexIVFFlat, inner product, spherical k-means into `nlist` lists; a
//         query scans the `nprobe` lists whose centroids are nearest. nprobe =
//         nlist scans everything: the exact answer.
//   hnsw: IndexHNSWFlat (graph, M links per node) on L2, which ranks unit rows as
//         the inner product does (|q - x|^2 = 2 - 2 q.x); ef_search is the width
//         of the beam a query walks with.
// Hits carry faiss's ranking; SearchService re-scores them with the exact dot
// product so that scores never depend on the index kind.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cotrain/serve/embedding_index.h"

namespace cotrain::serve {

struct ApproximateOptions {
  std::string kind;             // "ivf" or "hnsw"
  int64_t nlist = 0;            // ivf: lists (0: min(4 sqrt(rows), rows / 39), at least 1)
  int64_t nprobe = 0;           // ivf: lists scanned per query (0: max(8, nlist / 16))
  int64_t hnsw_m = 32;          // hnsw: links per node
  int64_t ef_construction = 80; // hnsw: beam width while inserting
  int64_t ef_search = 64;       // hnsw: beam width per query (raised to k when smaller)
  int64_t seed = 1234;          // ivf: k-means initialisation
};

// True when this build has faiss.
bool approximate_search_available();

// Fails unless kind is "ivf" or "hnsw" and the numbers are in range.
void check_approximate_options(const ApproximateOptions& options);

class ApproximateIndex {
 public:
  ~ApproximateIndex();
  // Builds over `rows` ([N, H] float32 unit rows, N >= 1), all cores.
  static std::unique_ptr<ApproximateIndex> build(const at::Tensor& rows, const ApproximateOptions& options);
  // Reads a file written by save(); fails (naming the file) unless it holds an index
  // of the expected kind with `rows` rows of width `dim`. Search settings (nprobe,
  // ef_search) come from `options`, not the file.
  static std::unique_ptr<ApproximateIndex> load(const std::string& path, const ApproximateOptions& options,
                                                int64_t rows, int64_t dim);
  void save(const std::string& path) const;

  // The (up to) k best rows for a unit query [H], best first; thread-safe, one
  // thread per call (the server runs queries side by side).
  std::vector<Hit> search(const at::Tensor& query, int64_t k) const;
  // Changes nprobe (ivf) or ef_search (hnsw); not while searches run.
  void set_breadth(int64_t breadth);

  int64_t rows() const;
  // {"kind", "nlist", "nprobe"} or {"kind", "hnsw_m", "ef_construction", "ef_search"}.
  nlohmann::json describe() const;
  static nlohmann::json describe_options(const ApproximateOptions& options);
  const ApproximateOptions& options() const;

  struct Impl;

 private:
  explicit ApproximateIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cotrain::serve
