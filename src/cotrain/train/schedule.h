// Learning rate per update: linear warm-up from 0, then linear decay to 0 at the
// last update (or constant), as in BERT/ERICA/UNIMO/ViLBERT.
#pragma once
#include <cstdint>

#include "cotrain/core/config.h"

namespace cotrain::train {

int64_t warmup_updates(const ScheduleConfig& schedule, int64_t total_updates);
// Learning rate for update number `update` (0-based: the first update uses update=0).
double learning_rate(const ScheduleConfig& schedule, double peak_lr, int64_t update, int64_t total_updates);

}  // namespace cotrain::train
