#include "common_options.h"

#include <CLI/CLI.hpp>

namespace cotrain::app {

void add_config_options(CLI::App& cmd, ConfigOptions& options) {
  cmd.add_option("--config", options.files, "YAML config file; repeat to layer them (later wins)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--set", options.sets, "override one key: --set model.hidden_size=256 (repeatable)");
  cmd.add_flag("--dump-config", options.dump, "print the resolved config and exit");
}

Config resolve_config(const ConfigOptions& options, Config base, ConfigOrigins* origins) {
  ConfigOrigins local;
  ConfigOrigins& o = origins ? *origins : local;
  apply_config_files(base, options.files, &o);
  apply_config_overrides(base, options.sets, &o);
  validate_config(base, o);
  return base;
}

}  // namespace cotrain::app

#include <ATen/Parallel.h>

#include <thread>

namespace cotrain::app {
void apply_thread_count(int64_t threads) {
  const int64_t n = threads > 0 ? threads : std::max<int64_t>(1, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(n));
}
}  // namespace cotrain::app
