#include "cotrain/core/rng.h"

#include <sstream>

#include "cotrain/core/error.h"

namespace cotrain {

uint64_t Rng::derive(uint64_t seed, uint64_t a, uint64_t b) {
  // splitmix64 over the three numbers: nearby inputs give unrelated seeds.
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  return mix(mix(mix(seed) ^ a) ^ b);
}

std::string Rng::state() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

void Rng::set_state(const std::string& text) {
  std::istringstream in(text);
  in >> engine_;
  if (in.fail()) fail("malformed random-number state in progress file");
}

}  // namespace cotrain
