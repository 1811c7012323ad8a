// `cotrain config`: prints the resolved configuration and the meaning of every key.
#include <CLI/CLI.hpp>

#include <iostream>

#include "command.h"
#include "common_options.h"
#include "cotrain/core/config.h"

namespace cotrain::app {
namespace {

Runner setup(CLI::App& cmd) {
  auto options = std::make_shared<ConfigOptions>();
  add_config_options(cmd, *options);
  auto keys = std::make_shared<bool>(false);
  cmd.add_flag("--keys", *keys, "list every config key with its meaning");
  cmd.footer("Prints the configuration that --config files and --set overrides resolve to.");
  return [options, keys] {
    if (*keys) {
      std::cout << describe_config_keys();
      return 0;
    }
    std::cout << dump_config_yaml(resolve_config(*options));
    return 0;
  };
}

Registration reg("config", "print the resolved configuration (or --keys: every key explained)", setup);

}  // namespace
}  // namespace cotrain::app
