// Approximate search (faiss): recall@10 on a seeded clustered collection against a
// brute-force ranking computed here with plain loops; IVF scanning every list is
// exact; files round-trip, and damaged or mismatched files are refused; the CLI and
// the service use the index when the folder has one. Skipped without faiss.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <iostream>
#include <numeric>
#include <set>
#include <sstream>

#include "cotrain/core/error.h"
#include "cotrain/serve/approximate_store.h"
#include "cotrain/serve/search_service.h"
#include "serve/serve_fixture.h"
#include "support/support.h"

namespace sv = cotrain::serve;
using cotrain::testing::read_file;
using cotrain::testing::run_cotrain;
using cotrain::testing::write_file;

namespace {

#define REQUIRE_FAISS() \
  if (!sv::approximate_search_available()) GTEST_SKIP() << "built without faiss (libfaiss-dev)"

at::Tensor unit_rows(at::Tensor x) { return x / x.norm(2, {1}, true); }

// 200 cluster centres on the sphere; each row its centre plus noise of norm ~1.5:
// neighbours mostly share a cluster, but not so clearly that one list holds them.
struct Synthetic {
  at::Tensor rows, queries;
};
Synthetic make_synthetic(int64_t n, int64_t q, int64_t dim) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
  at::Tensor centres = unit_rows(at::normal(0.0, 1.0, {200, dim}, gen));
  auto draw = [&](int64_t count) {
    at::Tensor which = at::randint(0, 200, {count}, gen, at::kLong);
    at::Tensor noise = at::normal(0.0, 1.5 / std::sqrt(static_cast<double>(dim)), {count, dim}, gen);
    return unit_rows(centres.index_select(0, which) + noise).contiguous();
  };
  Synthetic s;
  s.rows = draw(n);
  s.queries = draw(q);
  return s;
}

// The k best rows by dot product, with plain loops (not exact_search, not BLAS).
std::vector<int64_t> brute_force_top(const at::Tensor& rows, const at::Tensor& query, int64_t k) {
  const int64_t n = rows.size(0), d = rows.size(1);
  const float* r = rows.data_ptr<float>();
  const float* q = query.data_ptr<float>();
  std::vector<double> score(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(r[i * d + j]) * q[j];
    score[static_cast<size_t>(i)] = s;
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int64_t a, int64_t b) { return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)]; });
  order.resize(static_cast<size_t>(k));
  return order;
}

double recall_at_10(const Synthetic& s, const sv::ApproximateIndex& index) {
  double total = 0;
  for (int64_t i = 0; i < s.queries.size(0); ++i) {
    at::Tensor q = s.queries[i].contiguous();
    auto truth = brute_force_top(s.rows, q, 10);
    std::set<int64_t> t(truth.begin(), truth.end());
    int found = 0;
    for (const auto& h : index.search(q, 10)) found += t.count(h.index) ? 1 : 0;
    total += found / 10.0;
  }
  return total / static_cast<double>(s.queries.size(0));
}

}  // namespace

TEST(ServeApproximate, IvfRecallAt10AgainstBruteForce) {
  REQUIRE_FAISS();
  auto s = make_synthetic(20000, 200, 64);
  sv::ApproximateOptions o;
  o.kind = "ivf";
  o.nlist = 128;
  o.nprobe = 32;
  auto index = sv::ApproximateIndex::build(s.rows, o);
  EXPECT_EQ(index->options().nlist, 128);
  const double recall = recall_at_10(s, *index);
  std::cout << "ivf nlist 128 nprobe 32: recall@10 " << recall << "\n";
  EXPECT_GE(recall, 0.90) << "nprobe 32 of 128 lists";
  // Fewer lists scanned: lower recall (the setting matters), but still most.
  index->set_breadth(2);
  const double narrow = recall_at_10(s, *index);
  std::cout << "ivf nlist 128 nprobe 2: recall@10 " << narrow << "\n";
  EXPECT_LT(narrow, recall - 0.1);
  EXPECT_GE(narrow, 0.40);
}

TEST(ServeApproximate, IvfScanningEveryListIsExact) {
  REQUIRE_FAISS();
  auto s = make_synthetic(5000, 100, 32);
  sv::ApproximateOptions o;
  o.kind = "ivf";
  o.nlist = 50;
  o.nprobe = 50;
  auto index = sv::ApproximateIndex::build(s.rows, o);
  for (int64_t i = 0; i < s.queries.size(0); ++i) {
    at::Tensor q = s.queries[i].contiguous();
    const auto truth = brute_force_top(s.rows, q, 10);
    const auto hits = index->search(q, 10);
    ASSERT_EQ(hits.size(), 10u);
    for (size_t r = 0; r < 10; ++r) {
      EXPECT_EQ(hits[r].index, truth[r]) << "query " << i << " rank " << r + 1;
      EXPECT_NEAR(hits[r].score, at::dot(s.rows[hits[r].index], q).item<float>(), 1e-5);
    }
  }
}

TEST(ServeApproximate, HnswRecallAt10AgainstBruteForce) {
  REQUIRE_FAISS();
  auto s = make_synthetic(20000, 200, 64);
  sv::ApproximateOptions o;
  o.kind = "hnsw";
  o.hnsw_m = 16;
  o.ef_construction = 40;
  o.ef_search = 64;
  auto index = sv::ApproximateIndex::build(s.rows, o);
  EXPECT_EQ(index->options().hnsw_m, 16);
  const double recall = recall_at_10(s, *index);
  std::cout << "hnsw M 16 ef_search 64: recall@10 " << recall << "\n";
  // (faiss inserts on several threads, so the graph, and recall, vary a little
  // from run to run: measured 0.91 and 0.99.)
  EXPECT_GE(recall, 0.85);
  index->set_breadth(256);
  const double wide = recall_at_10(s, *index);
  std::cout << "hnsw M 16 ef_search 256: recall@10 " << wide << "\n";
  EXPECT_GE(wide, 0.95);
  EXPECT_GT(wide, recall);  // the beam width is honoured
  // hnsw ranks by L2 on unit rows; the score it reports is the dot product.
  at::Tensor q = s.queries[0].contiguous();
  for (const auto& h : index->search(q, 5)) EXPECT_NEAR(h.score, at::dot(s.rows[h.index], q).item<float>(), 1e-5);
}

TEST(ServeApproximate, FolderRoundTripAndDamagedFilesRefused) {
  REQUIRE_FAISS();
  auto c = cotrain::serve_test::make_collection("approx-folder");
  std::ostringstream log;
  sv::ApproximateOptions o;
  o.kind = "ivf";
  auto section = sv::add_approximate_index(c.index, o, 6, log);
  EXPECT_EQ(section["kind"], "ivf");
  EXPECT_TRUE(section["recall"]["images"].contains("recall"));
  // Six rows: one list (at least 39 rows per list), which the search scans: exact.
  EXPECT_DOUBLE_EQ(section["recall"]["images"]["recall"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(section["recall"]["texts"]["recall"].get<double>(), 1.0);

  sv::EmbeddingIndex index = sv::load_index(c.index);
  auto pair = sv::load_approximate(index);
  ASSERT_TRUE(pair.images && pair.texts);
  EXPECT_EQ(pair.images->rows(), 6);
  at::Tensor q = index.texts[2].contiguous();
  const auto exact = sv::exact_search(index.images, q, 6);
  const auto approx = pair.images->search(q, 6);
  ASSERT_EQ(approx.size(), exact.size());
  for (size_t r = 0; r < exact.size(); ++r) EXPECT_EQ(approx[r].index, exact[r].index);

  // One byte changed: the checksum in index.json catches it before faiss reads it.
  const std::string path = c.index + "/images.faiss";
  std::string bytes = read_file(path);
  bytes[bytes.size() / 2] ^= 0x5a;
  write_file(path, bytes);
  try {
    sv::load_approximate(index);
    FAIL() << "a damaged file was accepted";
  } catch (const cotrain::Error& e) {
    EXPECT_NE(std::string(e.what()).find("images.faiss: checksum"), std::string::npos) << e.what();
  }
  // index.json naming a file outside the folder is refused before anything is opened.
  index.meta["approximate"]["files"]["images"]["file"] = "../../etc/passwd";
  EXPECT_THROW(sv::load_approximate(index), cotrain::Error);
}

TEST(ServeApproximate, CliAddsTheIndexAndTheServiceUsesIt) {
  REQUIRE_FAISS();
  auto c = cotrain::serve_test::make_collection("approx-cli");
  // Added to the existing index: no model, no sources.
  auto r = run_cotrain({"index", "--out", c.index, "--approximate", "hnsw", "--hnsw-m", "8", "--recall-queries", "6"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("recall@10 against exact search over 6 queries"), std::string::npos) << r.output;
  sv::EmbeddingIndex index = sv::load_index(c.index);
  ASSERT_EQ(index.meta["approximate"]["kind"], "hnsw");
  auto pair = sv::load_approximate(index);
  sv::SearchService service(std::move(index), std::make_unique<sv::UnimoEncoder>(c.model, c.encoder));
  const auto exact = service.text_to_images("a red square", 6);
  service.use_approximate(std::move(pair));
  const auto approx = service.text_to_images("a red square", 6);
  EXPECT_EQ(exact["search"], "exact");
  EXPECT_EQ(approx["search"], "hnsw");
  EXPECT_EQ(service.info()["search"], "hnsw");
  ASSERT_EQ(approx["results"].size(), exact["results"].size());
  for (size_t i = 0; i < exact["results"].size(); ++i) {  // six rows: the graph reaches them all
    EXPECT_EQ(approx["results"][i]["id"], exact["results"][i]["id"]);
    EXPECT_NEAR(approx["results"][i]["score"].get<double>(), exact["results"][i]["score"].get<double>(), 1e-6);
  }
  // Bad requests of the option are refused with a reason.
  auto bad = run_cotrain({"index", "--out", c.index, "--approximate", "lsh"});
  EXPECT_NE(bad.exit_code, 0);
  auto no_model = run_cotrain({"index", "--out", c.index, "--texts", c.texts, "--approximate", "ivf"});
  EXPECT_EQ(no_model.exit_code, 2) << no_model.output;
  EXPECT_NE(no_model.output.find("--model is required"), std::string::npos) << no_model.output;
}
