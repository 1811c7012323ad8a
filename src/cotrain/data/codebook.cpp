#include "cotrain/data/codebook.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

#include "cotrain/core/error.h"

namespace cotrain::data {
namespace {

// Uniform double in [0, 1) from the raw 64-bit engine output: unlike
// std::uniform_real_distribution, the same on every standard library.
double uniform01(std::mt19937_64& engine) { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }

// Squared distances of points [begin, end) to all centroids. The dot products run
// over a transposed centroid table so that the innermost loop is an elementwise
// multiply-add over k contiguous floats, which compilers vectorise without
// -ffast-math (a dot-product reduction would not be).
void distances_block(const float* points, std::int64_t begin, std::int64_t end, std::int64_t dim,
                     const std::vector<float>& transposed, const std::vector<float>& norms, std::int64_t k,
                     float* out) {
  for (std::int64_t i = begin; i < end; ++i) {
    const float* x = points + i * dim;
    float* row = out + (i - begin) * k;
    std::fill(row, row + k, 0.0f);
    float xx = 0.0f;
    for (std::int64_t j = 0; j < dim; ++j) {
      const float xj = x[j];
      xx += xj * xj;
      const float* cj = transposed.data() + j * k;
      for (std::int64_t c = 0; c < k; ++c) row[c] += xj * cj[c];
    }
    for (std::int64_t c = 0; c < k; ++c) row[c] = std::max(0.0f, xx - 2.0f * row[c] + norms[c]);
  }
}

struct Prepared {
  std::vector<float> transposed, norms;
};

Prepared prepare(const float* centroids, std::int64_t k, std::int64_t dim) {
  Prepared p;
  p.transposed.resize(static_cast<std::size_t>(k * dim));
  p.norms.assign(static_cast<std::size_t>(k), 0.0f);
  for (std::int64_t c = 0; c < k; ++c)
    for (std::int64_t j = 0; j < dim; ++j) {
      const float v = centroids[c * dim + j];
      p.transposed[j * k + c] = v;
      p.norms[c] += v * v;
    }
  return p;
}

// Runs f(begin, end, thread) over [0, n) split into `threads` contiguous ranges.
template <class F>
void parallel_ranges(std::int64_t n, int threads, F&& f) {
  threads = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, n / 256 + 1)));
  std::vector<std::thread> pool;
  const std::int64_t step = (n + threads - 1) / threads;
  for (int t = 1; t < threads; ++t) {
    const std::int64_t b = std::min(n, t * step), e = std::min(n, (t + 1) * step);
    pool.emplace_back([&f, b, e, t] { f(b, e, t); });
  }
  f(0, std::min(n, step), 0);
  for (auto& th : pool) th.join();
}

// Nearest centroid and its squared distance for every point.
void assign_all(const float* points, std::int64_t n, std::int64_t dim, const std::vector<float>& centroids,
                std::int64_t k, int threads, std::vector<std::int64_t>& label, std::vector<float>& best) {
  const Prepared p = prepare(centroids.data(), k, dim);
  label.resize(static_cast<std::size_t>(n));
  best.resize(static_cast<std::size_t>(n));
  parallel_ranges(n, threads, [&](std::int64_t b, std::int64_t e, int) {
    constexpr std::int64_t kBlock = 64;
    std::vector<float> d(static_cast<std::size_t>(kBlock * k));
    for (std::int64_t s = b; s < e; s += kBlock) {
      const std::int64_t t = std::min(e, s + kBlock);
      distances_block(points, s, t, dim, p.transposed, p.norms, k, d.data());
      for (std::int64_t i = s; i < t; ++i) {
        const float* row = d.data() + (i - s) * k;
        const auto arg = std::min_element(row, row + k) - row;
        label[i] = arg;
        best[i] = row[arg];
      }
    }
  });
}

double mean(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

}  // namespace

KMeansResult fit_codebook(const float* points, std::int64_t n, std::int64_t dim, const KMeansOptions& o) {
  if (dim <= 0) fail("codebook: feature size {} is not positive", dim);
  if (o.k <= 0) fail("codebook: k = {} is not positive", o.k);
  if (n < o.k) fail("codebook: {} points are fewer than k = {}", n, o.k);
  if (o.iterations < 0) fail("codebook: negative iteration count");
  const std::int64_t k = o.k;
  std::mt19937_64 engine(o.seed);
  std::vector<float> centroids(static_cast<std::size_t>(k * dim));

  // k-means++: first centroid uniform, each next one drawn with probability
  // proportional to the squared distance to the nearest centroid chosen so far.
  std::vector<float> nearest(static_cast<std::size_t>(n), std::numeric_limits<float>::infinity());
  auto pick = static_cast<std::int64_t>(uniform01(engine) * static_cast<double>(n));
  for (std::int64_t c = 0; c < k; ++c) {
    std::copy(points + pick * dim, points + (pick + 1) * dim, centroids.begin() + c * dim);
    const float* cc = centroids.data() + c * dim;
    parallel_ranges(n, o.threads, [&](std::int64_t b, std::int64_t e, int) {
      for (std::int64_t i = b; i < e; ++i) {
        const float* x = points + i * dim;
        float d = 0.0f;
        for (std::int64_t j = 0; j < dim; ++j) d += (x[j] - cc[j]) * (x[j] - cc[j]);
        nearest[i] = std::min(nearest[i], d);
      }
    });
    if (c + 1 == k) break;
    double total = 0;
    for (float d : nearest) total += d;
    if (total <= 0) {  // all points coincide with chosen centroids: any point will do
      pick = static_cast<std::int64_t>(uniform01(engine) * static_cast<double>(n));
      continue;
    }
    double target = uniform01(engine) * total, run = 0;
    pick = n - 1;
    for (std::int64_t i = 0; i < n; ++i) {
      run += nearest[i];
      if (run > target) {
        pick = i;
        break;
      }
    }
  }

  KMeansResult result;
  std::vector<std::int64_t> label;
  std::vector<float> best;
  assign_all(points, n, dim, centroids, k, o.threads, label, best);
  result.inertia.push_back(mean(best));
  std::vector<double> sums(static_cast<std::size_t>(k * dim));
  std::vector<std::int64_t> counts(static_cast<std::size_t>(k));
  for (int it = 0; it < o.iterations; ++it) {
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (std::int64_t i = 0; i < n; ++i) {
      double* s = sums.data() + label[i] * dim;
      const float* x = points + i * dim;
      for (std::int64_t j = 0; j < dim; ++j) s[j] += x[j];
      ++counts[label[i]];
    }
    for (std::int64_t c = 0; c < k; ++c) {
      if (counts[c] == 0) {
        // Re-seed an empty cluster at the point worst served by its centroid.
        const auto far = std::max_element(best.begin(), best.end()) - best.begin();
        std::copy(points + far * dim, points + (far + 1) * dim, centroids.begin() + c * dim);
        best[far] = 0.0f;
        continue;
      }
      for (std::int64_t j = 0; j < dim; ++j)
        centroids[c * dim + j] = static_cast<float>(sums[c * dim + j] / static_cast<double>(counts[c]));
    }
    assign_all(points, n, dim, centroids, k, o.threads, label, best);
    result.inertia.push_back(mean(best));
  }
  result.cluster_sizes.assign(static_cast<std::size_t>(k), 0);
  for (auto l : label) ++result.cluster_sizes[l];
  result.codebook.k = k;
  result.codebook.dim = dim;
  result.codebook.centroids = std::move(centroids);
  const double t = o.temperature > 0 ? o.temperature : result.inertia.back();
  result.codebook.temperature = static_cast<float>(t > 0 ? t : 1.0);
  return result;
}

void codebook_distances(const Codebook& cb, const float* points, std::int64_t n, float* out) {
  if (cb.k <= 0 || cb.dim <= 0 || cb.centroids.size() != static_cast<std::size_t>(cb.k * cb.dim))
    fail("codebook: inconsistent sizes (k {}, dim {}, {} values)", cb.k, cb.dim, cb.centroids.size());
  const Prepared p = prepare(cb.centroids.data(), cb.k, cb.dim);
  distances_block(points, 0, n, cb.dim, p.transposed, p.norms, cb.k, out);
}

void soft_assign(const Codebook& cb, const float* points, std::int64_t n, float* out) {
  if (!(cb.temperature > 0)) fail("codebook: temperature {} is not positive", cb.temperature);
  codebook_distances(cb, points, n, out);
  const float inv_t = 1.0f / cb.temperature;
  for (std::int64_t i = 0; i < n; ++i) {
    float* row = out + i * cb.k;
    const float lo = *std::min_element(row, row + cb.k);  // shift: the largest logit is 0
    double sum = 0;
    for (std::int64_t c = 0; c < cb.k; ++c) {
      row[c] = std::exp(-(row[c] - lo) * inv_t);
      sum += row[c];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (std::int64_t c = 0; c < cb.k; ++c) row[c] *= inv;
  }
}

std::vector<std::int64_t> hard_assign(const Codebook& cb, const float* points, std::int64_t n) {
  std::vector<float> d(static_cast<std::size_t>(n * cb.k));
  codebook_distances(cb, points, n, d.data());
  std::vector<std::int64_t> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) out[i] = std::min_element(&d[i * cb.k], &d[i * cb.k] + cb.k) - &d[i * cb.k];
  return out;
}

}  // namespace cotrain::data
