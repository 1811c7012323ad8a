// Patch codebook: k-means over region features. When no detector class distribution
// exists (grid patches from raw images), a region's soft assignment to the codebook,
// softmax(-||x - c_k||^2 / T), serves as the "class" target of masked-region
// classification. Plain C++ (no LibTorch): the sizes are small (tens of thousands of
// patches, a few hundred dimensions, tens of centroids).
#pragma once
#include <cstdint>
#include <vector>

namespace cotrain::data {

struct Codebook {
  std::int64_t k = 0, dim = 0;
  std::vector<float> centroids;  // k x dim
  float temperature = 1.0f;      // T of the soft assignment (squared-distance units)
};

struct KMeansOptions {
  std::int64_t k = 64;
  int iterations = 10;     // Lloyd iterations after k-means++ seeding
  std::uint64_t seed = 0;
  int threads = 1;
  // T for soft assignments; <= 0: the mean squared distance of the points to their
  // nearest centroid after fitting, so targets are neither one-hot nor uniform.
  double temperature = 0.0;
};

struct KMeansResult {
  Codebook codebook;
  std::vector<double> inertia;  // mean squared distance to the nearest centroid, after seeding and each iteration
  std::vector<std::int64_t> cluster_sizes;
};

// Fits k centroids to `n` points of `dim` floats (row-major): k-means++ seeding from a
// seeded generator (the same result on every platform), then Lloyd iterations; an
// emptied cluster is re-seeded at the point farthest from its centroid.
KMeansResult fit_codebook(const float* points, std::int64_t n, std::int64_t dim, const KMeansOptions& options);

// Squared distances of `n` points to every centroid: out is n x k.
void codebook_distances(const Codebook& codebook, const float* points, std::int64_t n, float* out);
// softmax(-d / T) per point: out is n x k, rows sum to 1.
void soft_assign(const Codebook& codebook, const float* points, std::int64_t n, float* out);
// Index of the nearest centroid of each point.
std::vector<std::int64_t> hard_assign(const Codebook& codebook, const float* points, std::int64_t n);

}  // namespace cotrain::data
