#include "cotrain/serve/approximate_store.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <vector>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/core/fs_util.h"
#include "cotrain/train/checksum.h"

namespace cotrain::serve {

namespace {

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

nlohmann::json read_meta(const std::string& dir) {
  const std::string path = join_path(dir, "index.json");
  nlohmann::json meta = nlohmann::json::parse(read_whole_file(path), nullptr, false);
  if (!meta.is_object()) fail("{}: not a JSON object", path);
  return meta;
}

ApproximateOptions options_from(const nlohmann::json& section, const std::string& where) {
  ApproximateOptions o;
  try {
    o.kind = section.at("kind").get<std::string>();
    if (o.kind == "ivf") {
      o.nlist = section.at("nlist").get<int64_t>();
      o.nprobe = section.at("nprobe").get<int64_t>();
    } else {
      o.hnsw_m = section.at("hnsw_m").get<int64_t>();
      o.ef_construction = section.at("ef_construction").get<int64_t>();
      o.ef_search = section.at("ef_search").get<int64_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: bad \"approximate\" section: {}", where, e.what());
  }
  try {
    check_approximate_options(o);
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  return o;
}

}  // namespace

nlohmann::json RecallMeasurement::to_json() const {
  auto r3 = [](double x) { return std::round(x * 1000.0) / 1000.0; };
  return {{"queries", queries},        {"k", k},
          {"recall", r3(recall)},      {"exact_ms", {{"mean", r3(exact_ms_mean)}, {"p50", r3(exact_ms_p50)}, {"p99", r3(exact_ms_p99)}}},
          {"approximate_ms", {{"mean", r3(approx_ms_mean)}, {"p50", r3(approx_ms_p50)}, {"p99", r3(approx_ms_p99)}}}};
}

RecallMeasurement measure_recall(const at::Tensor& rows, const ApproximateIndex& index, const at::Tensor& queries,
                                 int64_t k) {
  RecallMeasurement m;
  m.queries = queries.size(0);
  m.k = k;
  const int64_t want = std::min(k, rows.size(0));
  if (m.queries == 0 || want == 0) return m;
  std::vector<double> exact_ms, approx_ms;
  double found = 0;
  for (int64_t i = 0; i < m.queries; ++i) {
    at::Tensor q = queries[i];
    auto t0 = std::chrono::steady_clock::now();
    const auto exact = exact_search(rows, q, k);
    exact_ms.push_back(elapsed_ms(t0));
    t0 = std::chrono::steady_clock::now();
    const auto approx = index.search(q, k);
    approx_ms.push_back(elapsed_ms(t0));
    std::set<int64_t> truth;
    for (const auto& h : exact) truth.insert(h.index);
    int64_t hit = 0;
    for (const auto& h : approx) hit += truth.count(h.index) ? 1 : 0;
    found += static_cast<double>(hit) / static_cast<double>(want);
  }
  m.recall = found / static_cast<double>(m.queries);
  m.exact_ms_mean = mean(exact_ms);
  m.exact_ms_p50 = percentile(exact_ms, 0.5);
  m.exact_ms_p99 = percentile(exact_ms, 0.99);
  m.approx_ms_mean = mean(approx_ms);
  m.approx_ms_p50 = percentile(approx_ms, 0.5);
  m.approx_ms_p99 = percentile(approx_ms, 0.99);
  return m;
}

at::Tensor recall_queries(const at::Tensor& side, const at::Tensor& other, int64_t count) {
  const at::Tensor& source = other.size(0) > 0 ? other : side;
  const int64_t n = source.size(0);
  count = std::min(count, n);
  if (count <= 0) return at::empty({0, side.size(1)}, side.options());
  at::Tensor picks = at::linspace(0, static_cast<double>(n - 1), count, at::kDouble).round().to(at::kLong);
  at::Tensor q = source.index_select(0, picks).to(at::kFloat);
  if (other.size(0) == 0) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(20261127);
    at::Tensor noise = at::normal(0.0, 1.0, q.sizes(), gen);
    noise = noise / noise.norm(2, {1}, true) * 0.5;
    q = q + noise;
  }
  return q / q.norm(2, {1}, true).clamp_min(1e-12);
}

nlohmann::json add_approximate_index(const std::string& dir, const ApproximateOptions& options, int64_t recall_count,
                                     std::ostream& log) {
  check_approximate_options(options);
  EmbeddingIndex index = load_index(dir);
  nlohmann::json meta = read_meta(dir);
  meta.erase("approximate");  // an index.json naming files that are being replaced is never left behind
  write_file_atomically(join_path(dir, "index.json"), meta.dump(2) + "\n");

  nlohmann::json section;  // filled in last
  nlohmann::json files = nlohmann::json::object(), recall = nlohmann::json::object();
  for (const char* side : {"images", "texts"}) {
    const at::Tensor& rows = std::string(side) == "images" ? index.images : index.texts;
    const at::Tensor& other = std::string(side) == "images" ? index.texts : index.images;
    if (rows.size(0) == 0) continue;
    auto t0 = std::chrono::steady_clock::now();
    auto built = ApproximateIndex::build(rows, options);
    log << "approximate index (" << options.kind << "): " << rows.size(0) << " " << side << " in "
        << elapsed_ms(t0) / 1000.0 << " s: " << built->describe().dump() << std::endl;
    const std::string file = std::string(side) + ".faiss";
    const std::string path = join_path(dir, file), temp = path + ".tmp";
    built->save(temp);
    if (std::rename(temp.c_str(), path.c_str()) != 0) fail("{}: cannot rename to {}", temp, path);
    // The settings as resolved for this side (automatic nlist and nprobe depend on its size).
    files[side] = {{"file", file}, {"sha256", train::sha256_file(path)}, {"built", built->describe()}};
    if (recall_count > 0) {
      auto m = measure_recall(rows, *built, recall_queries(rows, other, recall_count), 10);
      recall[side] = m.to_json();
      recall[side]["queries_from"] = other.size(0) > 0 ? (std::string(side) == "images" ? "texts" : "images")
                                                        : std::string(side) + " with noise";
      log << "  recall@10 against exact search over " << m.queries << " queries: " << m.recall
          << "; per query: exact " << m.exact_ms_mean << " ms, approximate " << m.approx_ms_mean << " ms (mean)"
          << std::endl;
    }
  }
  if (files.empty()) fail("{}: the index is empty: nothing to build an approximate index over", dir);
  // The settings as asked (0: automatic), which `cotrain serve` resolves per side again.
  section = ApproximateIndex::describe_options(options);
  section["files"] = files;
  section["recall"] = recall;
  meta["approximate"] = section;
  write_file_atomically(join_path(dir, "index.json"), meta.dump(2) + "\n");  // last: the files are in place
  return section;
}

ApproximatePair load_approximate(const EmbeddingIndex& index, int64_t breadth) {
  ApproximatePair pair;
  if (!index.meta.contains("approximate")) return pair;
  const std::string where = join_path(index.dir, "index.json");
  const auto& section = index.meta["approximate"];
  if (!section.is_object() || !section.contains("files") || !section["files"].is_object())
    fail("{}: \"approximate\" must be an object with \"files\"", where);
  const ApproximateOptions options = options_from(section, where);
  for (const char* side : {"images", "texts"}) {
    const at::Tensor& rows = std::string(side) == "images" ? index.images : index.texts;
    if (!section["files"].contains(side)) {
      if (rows.size(0) > 0) fail("{}: \"approximate\" has no file for the {}", where, side);
      continue;
    }
    const auto& f = section["files"][side];
    const std::string expected = std::string(side) + ".faiss";
    // Only the names this code writes: nothing outside the folder is ever opened.
    if (!f.is_object() || f.value("file", "") != expected || !f.contains("sha256") || !f["sha256"].is_string())
      fail("{}: \"approximate\".\"files\".\"{}\" must be {{\"file\": \"{}\", \"sha256\": HEX}}", where, side, expected);
    const std::string path = join_path(index.dir, expected);
    if (!is_regular_file(path)) fail("{}: missing (index.json announces it; rebuild with --approximate)", path);
    if (train::sha256_file(path) != f["sha256"].get<std::string>())
      fail("{}: checksum differs from index.json: the file is damaged or was replaced", path);
    auto loaded = ApproximateIndex::load(path, options, rows.size(0), index.dim());
    if (breadth > 0) loaded->set_breadth(breadth);
    (std::string(side) == "images" ? pair.images : pair.texts) = std::move(loaded);
  }
  return pair;
}

}  // namespace cotrain::serve
