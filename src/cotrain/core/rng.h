// Seeded random numbers for every stochastic choice of the data pipeline (masking,
// sampling, shuffling). The state serialises to text so that a resumed run draws
// exactly the numbers an uninterrupted run would have drawn.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cotrain {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : engine_(seed) {}
  // Mixes a seed with stream numbers (epoch, rank, ...) into an independent seed.
  static uint64_t derive(uint64_t seed, uint64_t a, uint64_t b = 0);

  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }
  // Integer in [0, n).
  int64_t below(int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(engine_); }
  bool bernoulli(double p) { return uniform() < p; }
  // Number of failures before the first success, p in (0, 1].
  int64_t geometric(double p) { return std::geometric_distribution<int64_t>(p)(engine_); }
  template <class T> void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(below(static_cast<int64_t>(i)))]);
  }
  std::mt19937_64& engine() { return engine_; }

  std::string state() const;
  void set_state(const std::string& text);  // throws cotrain::Error on malformed state

 private:
  std::mt19937_64 engine_;
};

}  // namespace cotrain
