#include "cotrain/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace cotrain::train {

int64_t warmup_updates(const ScheduleConfig& s, int64_t total) {
  if (s.warmup_updates > 0) return std::min(s.warmup_updates, total);
  return static_cast<int64_t>(std::llround(s.warmup_fraction * static_cast<double>(total)));
}

double learning_rate(const ScheduleConfig& s, double peak, int64_t update, int64_t total) {
  // Same shape as transformers' get_linear_schedule_with_warmup, evaluated at the
  // step count the scheduler has when this update is applied.
  const int64_t warm = warmup_updates(s, total);
  if (update < warm) return peak * static_cast<double>(update + 1) / static_cast<double>(warm);
  if (s.kind == "constant") return peak;
  const double remaining = static_cast<double>(total - update) / static_cast<double>(std::max<int64_t>(1, total - warm));
  return peak * std::max(0.0, remaining);
}

}  // namespace cotrain::train
