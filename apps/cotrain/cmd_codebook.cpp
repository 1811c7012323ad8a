// `cotrain codebook`: k-means patch codebook over the region features of shards.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <random>

#include "command.h"
#include "cotrain/core/error.h"
#include "cotrain/data/codebook.h"
#include "cotrain/data/codebook_file.h"
#include "cotrain/data/shards.h"

namespace cotrain::app {
namespace {

struct CodebookArgs {
  std::string shards, out = "codebook.safetensors";
  data::KMeansOptions kmeans;
  std::int64_t max_samples = 200000;
};

Runner setup(CLI::App& cmd) {
  auto a = std::make_shared<CodebookArgs>();
  a->kmeans.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cmd.add_option("--shards", a->shards, "output folder (or one shard file) of cotrain prepare")->required();
  cmd.add_option("--k", a->kmeans.k, "number of centroids (class targets)")->capture_default_str();
  cmd.add_option("--iterations", a->kmeans.iterations, "Lloyd iterations after k-means++ seeding")
      ->capture_default_str();
  cmd.add_option("--seed", a->kmeans.seed, "seed of the seeding and of the sample")->capture_default_str();
  cmd.add_option("--temperature", a->kmeans.temperature,
                 "T of the soft targets softmax(-|x-c|^2/T); 0: mean squared distance to the nearest centroid")
      ->capture_default_str();
  cmd.add_option("--max-samples", a->max_samples, "fit on at most this many regions (a seeded random sample)")
      ->capture_default_str();
  cmd.add_option("--threads", a->kmeans.threads, "threads")->capture_default_str();
  cmd.add_option("--out", a->out, "codebook file (safetensors: centroids [k, D], temperature)")
      ->capture_default_str();
  cmd.footer(
      "Use the codebook with `cotrain prepare ... --codebook FILE`: each region's soft assignment\n"
      "becomes its class distribution (C = k), the target of masked-region classification when\n"
      "no detector distribution exists.");
  return [a] {
    const auto start = std::chrono::steady_clock::now();
    data::ShardSet shards(a->shards);
    const std::int64_t dim = shards.feature_dim();
    std::vector<std::pair<std::int64_t, std::int64_t>> all;  // (image, box)
    for (std::int64_t i = 0; i < shards.num_images(); ++i)
      for (std::int64_t b = 0; b < shards.image(i).num_boxes; ++b) all.emplace_back(i, b);
    const auto total = static_cast<std::int64_t>(all.size());
    if (a->max_samples > 0 && total > a->max_samples) {
      std::mt19937_64 engine(a->kmeans.seed ^ 0x5EEDULL);
      for (std::int64_t i = 0; i < a->max_samples; ++i) {  // partial Fisher-Yates
        const auto j = i + static_cast<std::int64_t>((engine() >> 11) * 0x1.0p-53 * static_cast<double>(total - i));
        std::swap(all[i], all[j]);
      }
      all.resize(static_cast<std::size_t>(a->max_samples));
    }
    const auto n = static_cast<std::int64_t>(all.size());
    std::vector<float> points(static_cast<std::size_t>(n * dim));
    for (std::int64_t s = 0; s < n; ++s) {
      const auto view = shards.image(all[s].first);
      std::copy(view.features + all[s].second * dim, view.features + (all[s].second + 1) * dim,
                points.begin() + s * dim);
    }
    auto result = data::fit_codebook(points.data(), n, dim, a->kmeans);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    data::save_codebook(a->out, result.codebook,
                        {{"k", std::to_string(a->kmeans.k)},
                         {"seed", std::to_string(a->kmeans.seed)},
                         {"iterations", std::to_string(a->kmeans.iterations)},
                         {"samples", std::to_string(n)},
                         {"shards", a->shards}});
    std::cout << "codebook: k " << a->kmeans.k << ", " << n << " of " << total << " regions, D " << dim << "\n";
    std::cout << "  mean squared distance to nearest centroid per iteration:";
    for (double v : result.inertia) std::cout << " " << v;
    const auto [lo, hi] = std::minmax_element(result.cluster_sizes.begin(), result.cluster_sizes.end());
    std::cout << "\n  cluster sizes " << *lo << ".." << *hi << ", temperature " << result.codebook.temperature
              << ", " << seconds << " s\n  wrote " << a->out << "\n";
    return 0;
  };
}

Registration reg("codebook", "k-means patch codebook over shard regions (soft class targets)", setup);

}  // namespace
}  // namespace cotrain::app
