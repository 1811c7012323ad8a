#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cotrain/core/error.h"
#include "cotrain/data/codebook.h"
#include "cotrain/data/codebook_file.h"
#include "support/support.h"

using namespace cotrain;
using namespace cotrain::data;

namespace {

// `per` points around each of `centers` (k x dim), spread `noise`.
std::vector<float> blobs(const std::vector<std::vector<float>>& centers, int per, float noise, unsigned seed) {
  std::mt19937 engine(seed);
  std::normal_distribution<float> normal(0.0f, noise);
  std::vector<float> out;
  for (int i = 0; i < per; ++i)
    for (const auto& c : centers)
      for (float v : c) out.push_back(v + normal(engine));
  return out;
}

}  // namespace

TEST(Codebook, RecoversSeparatedClusters) {
  std::vector<std::vector<float>> centers = {{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 10}};
  auto points = blobs(centers, 50, 0.3f, 1);
  KMeansOptions o;
  o.k = 4;
  o.iterations = 10;
  o.seed = 3;
  o.threads = 2;
  auto result = fit_codebook(points.data(), 200, 3, o);
  for (const auto& c : centers) {
    float best = 1e9f;
    for (int k = 0; k < 4; ++k) {
      float d = 0;
      for (int j = 0; j < 3; ++j) d += std::pow(result.codebook.centroids[k * 3 + j] - c[j], 2.0f);
      best = std::min(best, d);
    }
    EXPECT_LT(best, 0.05f);  // each true centre has a centroid within ~0.2
  }
  for (auto size : result.cluster_sizes) EXPECT_EQ(size, 50);
  for (std::size_t i = 1; i < result.inertia.size(); ++i) EXPECT_LE(result.inertia[i], result.inertia[i - 1] + 1e-9);
  // Seeded: the same result again, with one thread as with two.
  o.threads = 1;
  EXPECT_EQ(fit_codebook(points.data(), 200, 3, o).codebook.centroids, result.codebook.centroids);
  EXPECT_NEAR(result.codebook.temperature, result.inertia.back(), 1e-6);
}

TEST(Codebook, DistancesAndSoftAssignmentsMatchBruteForce) {
  Codebook cb;
  cb.k = 3;
  cb.dim = 20;
  std::mt19937 engine(5);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int i = 0; i < 60; ++i) cb.centroids.push_back(u(engine));
  cb.temperature = 0.7f;
  std::vector<float> points;
  for (int i = 0; i < 7 * 20; ++i) points.push_back(u(engine));
  std::vector<float> d(21), p(21);
  codebook_distances(cb, points.data(), 7, d.data());
  soft_assign(cb, points.data(), 7, p.data());
  auto hard = hard_assign(cb, points.data(), 7);
  for (int i = 0; i < 7; ++i) {
    double want[3], z = 0;
    for (int k = 0; k < 3; ++k) {
      double s = 0;
      for (int j = 0; j < 20; ++j) s += std::pow(double(points[i * 20 + j]) - cb.centroids[k * 20 + j], 2.0);
      EXPECT_NEAR(d[i * 3 + k], s, 1e-4 * std::max(1.0, s));
      want[k] = std::exp(-s / 0.7);
      z += want[k];
    }
    int arg = 0;
    for (int k = 0; k < 3; ++k) {
      EXPECT_NEAR(p[i * 3 + k], want[k] / z, 1e-5);
      if (want[k] > want[arg]) arg = k;
    }
    EXPECT_EQ(hard[i], arg);
  }
}

TEST(Codebook, EmptyClusterIsReseededAndBadInputsRejected) {
  // 5 identical points and one outlier with k = 2: both clusters stay populated.
  std::vector<float> points = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9};
  KMeansOptions o;
  o.k = 2;
  auto r = fit_codebook(points.data(), 6, 2, o);
  EXPECT_EQ(std::min(r.cluster_sizes[0], r.cluster_sizes[1]), 1);
  o.k = 7;
  EXPECT_THROW(fit_codebook(points.data(), 6, 2, o), Error);
}

TEST(Codebook, SafetensorsFileRoundTrip) {
  Codebook cb;
  cb.k = 2;
  cb.dim = 3;
  cb.centroids = {1, 2, 3, -4, 5.5f, 6};
  cb.temperature = 12.5f;
  std::string path = cotrain::testing::scratch_dir("codebook_file") + "/cb.safetensors";
  save_codebook(path, cb, {{"seed", "3"}});
  Codebook back = load_codebook(path);
  EXPECT_EQ(back.k, 2);
  EXPECT_EQ(back.dim, 3);
  EXPECT_EQ(back.centroids, cb.centroids);
  EXPECT_FLOAT_EQ(back.temperature, 12.5f);
  cotrain::testing::write_file(path, "garbage");
  EXPECT_THROW(load_codebook(path), Error);
}
