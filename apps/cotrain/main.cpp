// cotrain: one program, one subcommand per job. Errors in what the user gave us
// (cotrain::Error) print one line and exit with code 2.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include "command.h"
#include "cotrain/core/error.h"

namespace cotrain::app {

std::vector<CommandEntry>& commands() {
  static std::vector<CommandEntry> list;
  return list;
}

Registration::Registration(std::string name, std::string summary, Setup setup) {
  commands().push_back({std::move(name), std::move(summary), std::move(setup)});
}

}  // namespace cotrain::app

int main(int argc, char** argv) {
  using namespace cotrain::app;
  CLI::App app{
      "cotrain: contrastive multimodal and knowledge-aware pretraining of Transformers\n"
      "(ERICA, UNIMO, ViLBERT) in C++.\n\n"
      "Run 'cotrain <command> --help' for the options of a command."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cotrain 0.1.0");
  auto& list = commands();
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, Runner>> runners;
  for (auto& entry : list) {
    CLI::App* sub = app.add_subcommand(entry.name, entry.summary);
    runners.emplace_back(sub, entry.setup(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, like every other bad-input error (CLI11's own report takes two).
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    std::string command = "cotrain";
    for (auto& [sub, run] : runners)
      if (sub->parsed()) command += " " + sub->get_name();
    std::fprintf(stderr, "cotrain: error: %s (see '%s --help')\n", what.c_str(), command.c_str());
    return 2;
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const cotrain::Error& e) {
    std::fprintf(stderr, "cotrain: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cotrain: internal error (please report): %s\n", e.what());
    return 1;
  }
  return 0;
}
