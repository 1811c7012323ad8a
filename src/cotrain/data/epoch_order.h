// The order in which a task visits its examples: a shuffled pass per epoch whose
// permutation depends only on (seed, stream, epoch), so that a resumed run rebuilds
// it from the saved (epoch, cursor) and continues exactly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cotrain::data {

class EpochOrder {
 public:
  // Visits the given indices; `stream` keeps orders of different uses apart.
  EpochOrder(std::vector<int64_t> pool, uint64_t seed, uint64_t stream);
  // Visits 0..size-1.
  static EpochOrder over(int64_t size, uint64_t seed, uint64_t stream);

  // The next index; a new shuffled epoch starts when one is used up. An empty pool
  // is a cotrain::Error.
  int64_t next();
  int64_t epoch() const { return epoch_; }

  nlohmann::json state() const;  // {"epoch", "cursor"}
  // `name` says where the state came from in errors ("progress.json: data.<name>").
  void restore(const nlohmann::json& state, const std::string& name);

 private:
  void start_epoch();
  std::vector<int64_t> pool_, order_;
  uint64_t seed_, stream_;
  int64_t epoch_ = 0, cursor_ = 0;
};

}  // namespace cotrain::data
