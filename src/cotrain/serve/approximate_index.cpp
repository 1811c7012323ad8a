#include "cotrain/serve/approximate_index.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "cotrain/core/error.h"

#ifdef COTRAIN_HAVE_FAISS
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_io.h>
#include <omp.h>
#endif

namespace cotrain::serve {

void check_approximate_options(const ApproximateOptions& o) {
  if (o.kind != "ivf" && o.kind != "hnsw") fail("approximate index: kind \"{}\" is neither \"ivf\" nor \"hnsw\"", o.kind);
  if (o.nlist < 0 || o.nprobe < 0) fail("approximate index: nlist and nprobe must be >= 0 (0: automatic)");
  if (o.hnsw_m < 2 || o.hnsw_m > 256) fail("approximate index: --hnsw-m must be between 2 and 256");
  if (o.ef_construction < 1 || o.ef_search < 1) fail("approximate index: ef values must be >= 1");
}

#ifdef COTRAIN_HAVE_FAISS

bool approximate_search_available() { return true; }

struct ApproximateIndex::Impl {
  ApproximateOptions options;
  std::unique_ptr<faiss::Index> index;  // IndexIVFFlat or IndexHNSWFlat
};

namespace {

// faiss's OpenMP loops would start a team of all cores for every single query,
// on every server worker at once; one query is one thread's work. The setting is
// per thread (OpenMP's nthreads-var), restored for LibTorch's loops afterwards.
struct OneOpenMpThread {
  int saved = omp_get_max_threads();
  OneOpenMpThread() { omp_set_num_threads(1); }
  ~OneOpenMpThread() { omp_set_num_threads(saved); }
};

// 4 sqrt(N) lists, but at least 39 rows per list (fewer and faiss's k-means has
// too little to fit its centroids with, and says so).
int64_t auto_nlist(int64_t rows, int64_t nlist) {
  if (nlist <= 0)
    nlist = std::min<int64_t>(std::lround(4.0 * std::sqrt(static_cast<double>(rows))), rows / 39);
  return std::clamp<int64_t>(nlist, 1, rows);
}

// Resolves the automatic values against the built index; sets hnsw's efSearch.
void settle(ApproximateOptions& o, faiss::Index& index) {
  if (auto* ivf = dynamic_cast<const faiss::IndexIVFFlat*>(&index)) {
    o.nlist = static_cast<int64_t>(ivf->nlist);
    if (o.nprobe <= 0) o.nprobe = std::max<int64_t>(8, o.nlist / 16);
    o.nprobe = std::min(o.nprobe, o.nlist);
  } else if (auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(&index)) {
    hnsw->hnsw.efSearch = static_cast<int>(o.ef_search);
    o.ef_construction = hnsw->hnsw.efConstruction;
    // M is what the bottom layer's 2M links per node imply.
    o.hnsw_m = static_cast<int64_t>(hnsw->hnsw.nb_neighbors(1));
  }
}

}  // namespace

ApproximateIndex::ApproximateIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApproximateIndex::~ApproximateIndex() = default;

std::unique_ptr<ApproximateIndex> ApproximateIndex::build(const at::Tensor& rows_in, const ApproximateOptions& options) {
  check_approximate_options(options);
  at::Tensor rows = rows_in.to(at::kFloat).contiguous();
  if (rows.dim() != 2 || rows.size(0) < 1) fail("approximate index: nothing to index");
  const int64_t n = rows.size(0), d = rows.size(1);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  try {
    if (options.kind == "ivf") {
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(new faiss::IndexFlatIP(d), d, auto_nlist(n, options.nlist),
                                                       faiss::METRIC_INNER_PRODUCT);
      ivf->own_fields = true;
      ivf->cp.spherical = true;  // centroids on the unit sphere, like the rows
      ivf->cp.seed = static_cast<int>(options.seed);
      ivf->cp.verbose = false;
      ivf->train(n, rows.data_ptr<float>());
      ivf->add(n, rows.data_ptr<float>());
      impl->index = std::move(ivf);
    } else {
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(d), static_cast<int>(options.hnsw_m),
                                                         faiss::METRIC_L2);
      hnsw->hnsw.efConstruction = static_cast<int>(options.ef_construction);
      hnsw->add(n, rows.data_ptr<float>());
      impl->index = std::move(hnsw);
    }
  } catch (const faiss::FaissException& e) {
    fail("approximate index ({}): faiss: {}", options.kind, e.what());
  }
  settle(impl->options, *impl->index);
  return std::unique_ptr<ApproximateIndex>(new ApproximateIndex(std::move(impl)));
}

std::unique_ptr<ApproximateIndex> ApproximateIndex::load(const std::string& path, const ApproximateOptions& options,
                                                         int64_t rows, int64_t dim) {
  check_approximate_options(options);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  try {
    impl->index.reset(faiss::read_index(path.c_str()));
  } catch (const faiss::FaissException& e) {
    fail("{}: not a readable faiss index: {}", path, e.what());
  }
  faiss::Index& index = *impl->index;
  const bool right_kind = options.kind == "ivf"
                              ? dynamic_cast<const faiss::IndexIVFFlat*>(&index) != nullptr &&
                                    index.metric_type == faiss::METRIC_INNER_PRODUCT
                              : dynamic_cast<const faiss::IndexHNSWFlat*>(&index) != nullptr &&
                                    index.metric_type == faiss::METRIC_L2;
  if (!right_kind) fail("{}: not the \"{}\" index that index.json announces", path, options.kind);
  if (index.d != dim || index.ntotal != rows)
    fail("{}: holds {} rows of width {}, but the index has {} of width {}", path, index.ntotal, index.d, rows, dim);
  const int64_t nprobe = options.nprobe;
  settle(impl->options, index);
  if (nprobe > 0) impl->options.nprobe = std::min<int64_t>(nprobe, impl->options.nlist);
  return std::unique_ptr<ApproximateIndex>(new ApproximateIndex(std::move(impl)));
}

void ApproximateIndex::save(const std::string& path) const {
  try {
    faiss::write_index(impl_->index.get(), path.c_str());
  } catch (const faiss::FaissException& e) {
    fail("{}: cannot write the faiss index: {}", path, e.what());
  }
}

std::vector<Hit> ApproximateIndex::search(const at::Tensor& query_in, int64_t k) const {
  at::Tensor query = query_in.to(at::kFloat).contiguous().reshape({-1});
  if (query.size(0) != impl_->index->d) fail("approximate search: query of width {}, index of width {}", query.size(0), impl_->index->d);
  k = std::min<int64_t>(k, impl_->index->ntotal);
  if (k <= 0) return {};
  std::vector<float> distances(static_cast<size_t>(k));
  std::vector<faiss::Index::idx_t> labels(static_cast<size_t>(k));
  const auto& o = impl_->options;
  OneOpenMpThread one_thread;
  if (o.kind == "ivf") {
    faiss::SearchParametersIVF params;
    params.nprobe = static_cast<size_t>(o.nprobe);
    impl_->index->search(1, query.data_ptr<float>(), k, distances.data(), labels.data(), &params);
  } else {
    // faiss 1.7.3's HNSW walk reads efSearch from the index, not from search
    // parameters (and uses max(efSearch, k)): set_breadth sets it there.
    impl_->index->search(1, query.data_ptr<float>(), k, distances.data(), labels.data());
  }
  std::vector<Hit> hits;
  for (int64_t i = 0; i < k; ++i) {
    const auto label = labels[static_cast<size_t>(i)];
    if (label < 0) break;  // fewer than k rows in the lists scanned
    const double d = distances[static_cast<size_t>(i)];
    hits.push_back({label, o.kind == "ivf" ? d : 1.0 - d / 2.0});
  }
  return hits;
}

void ApproximateIndex::set_breadth(int64_t breadth) {
  if (breadth <= 0) return;
  if (impl_->options.kind == "ivf") {
    impl_->options.nprobe = std::min(breadth, impl_->options.nlist);
  } else {
    impl_->options.ef_search = breadth;
    dynamic_cast<faiss::IndexHNSWFlat&>(*impl_->index).hnsw.efSearch = static_cast<int>(breadth);
  }
}

int64_t ApproximateIndex::rows() const { return impl_->index->ntotal; }

#else  // no faiss in this build

bool approximate_search_available() { return false; }

struct ApproximateIndex::Impl {
  ApproximateOptions options;
};

namespace {
[[noreturn]] void no_faiss() {
  fail("approximate search needs faiss: install Debian's libfaiss-dev (scripts/setup.sh) and re-run cmake");
}
}  // namespace

ApproximateIndex::ApproximateIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApproximateIndex::~ApproximateIndex() = default;
std::unique_ptr<ApproximateIndex> ApproximateIndex::build(const at::Tensor&, const ApproximateOptions&) { no_faiss(); }
std::unique_ptr<ApproximateIndex> ApproximateIndex::load(const std::string&, const ApproximateOptions&, int64_t,
                                                         int64_t) {
  no_faiss();
}
void ApproximateIndex::save(const std::string&) const { no_faiss(); }
std::vector<Hit> ApproximateIndex::search(const at::Tensor&, int64_t) const { no_faiss(); }
void ApproximateIndex::set_breadth(int64_t) {}
int64_t ApproximateIndex::rows() const { return 0; }

#endif

const ApproximateOptions& ApproximateIndex::options() const { return impl_->options; }

nlohmann::json ApproximateIndex::describe() const { return describe_options(impl_->options); }

nlohmann::json ApproximateIndex::describe_options(const ApproximateOptions& o) {
  if (o.kind == "ivf") return {{"kind", "ivf"}, {"nlist", o.nlist}, {"nprobe", o.nprobe}};
  return {{"kind", "hnsw"}, {"hnsw_m", o.hnsw_m}, {"ef_construction", o.ef_construction}, {"ef_search", o.ef_search}};
}

}  // namespace cotrain::serve
