#include "cotrain/data/epoch_order.h"

#include <numeric>

#include "cotrain/core/error.h"
#include "cotrain/core/rng.h"

namespace cotrain::data {

EpochOrder::EpochOrder(std::vector<int64_t> pool, uint64_t seed, uint64_t stream)
    : pool_(std::move(pool)), seed_(seed), stream_(stream) {
  start_epoch();
}

EpochOrder EpochOrder::over(int64_t size, uint64_t seed, uint64_t stream) {
  std::vector<int64_t> pool(static_cast<size_t>(std::max<int64_t>(0, size)));
  std::iota(pool.begin(), pool.end(), 0);
  return EpochOrder(std::move(pool), seed, stream);
}

void EpochOrder::start_epoch() {
  order_ = pool_;
  Rng shuffler(Rng::derive(seed_, stream_, static_cast<uint64_t>(epoch_)));
  shuffler.shuffle(order_);
  cursor_ = 0;
}

int64_t EpochOrder::next() {
  if (pool_.empty()) fail("there are no examples to draw from");
  if (cursor_ >= static_cast<int64_t>(order_.size())) {
    ++epoch_;
    start_epoch();
  }
  return order_[static_cast<size_t>(cursor_++)];
}

nlohmann::json EpochOrder::state() const { return {{"epoch", epoch_}, {"cursor", cursor_}}; }

void EpochOrder::restore(const nlohmann::json& state, const std::string& name) {
  if (!state.is_object() || !state.contains("epoch") || !state.contains("cursor") ||
      !state.at("epoch").is_number_integer() || !state.at("cursor").is_number_integer())
    fail("progress.json: data.{} must hold integer epoch and cursor", name);
  epoch_ = state.at("epoch").get<int64_t>();
  start_epoch();
  cursor_ = state.at("cursor").get<int64_t>();
  if (epoch_ < 0 || cursor_ < 0 || cursor_ > static_cast<int64_t>(order_.size()))
    fail("progress.json: data.{}.cursor {} is outside these {} examples (another data set?)", name, cursor_,
         order_.size());
}

}  // namespace cotrain::data
