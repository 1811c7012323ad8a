// Options shared by commands that take a configuration.
#pragma once
#include <string>
#include <vector>

#include "cotrain/core/config.h"

namespace CLI {
class App;
}

namespace cotrain::app {

struct ConfigOptions {
  std::vector<std::string> files;  // --config, in order
  std::vector<std::string> sets;   // --set section.key=value
  bool dump = false;               // --dump-config
};

void add_config_options(CLI::App& cmd, ConfigOptions& options);
// Applies files then overrides onto `base` and validates.
Config resolve_config(const ConfigOptions& options, Config base = {}, ConfigOrigins* origins = nullptr);

}  // namespace cotrain::app

namespace cotrain::app {
// Sets LibTorch's intra-op threads (0: all cores).
void apply_thread_count(int64_t threads);
}  // namespace cotrain::app
