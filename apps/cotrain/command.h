// Subcommands register themselves: each cmd_*.cpp defines one with
//   static cotrain::app::Registration reg("name", "one-line summary", setup);
// where setup adds the options to its CLI::App and returns the function to run.
// main.cpp needs no edit when a command is added.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace cotrain::app {

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App&)>;

struct Registration {
  Registration(std::string name, std::string summary, Setup setup);
};

struct CommandEntry {
  std::string name, summary;
  Setup setup;
};
std::vector<CommandEntry>& commands();

}  // namespace cotrain::app
