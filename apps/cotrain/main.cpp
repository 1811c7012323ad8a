// cotrain: one program, one subcommand per job. Errors in what the user gave us
// (cotrain::Error) print one line and exit with code 2.
#include <CLI/CLI.hpp>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
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

namespace {

// LibTorch's OpenMP pool and OpenBLAS's own pool both busy-wait between parallel
// regions. With two pools on two cores, or any other load on the machine, they
// steal each other's cores: a tiny MLM step measured 7-20x slower than with
// OMP_WAIT_POLICY=passive and single-threaded BLAS (LibTorch parallelises around it).
// Both runtimes read their environment when they are loaded, before main(), so the
// variables are set here and the program re-executes itself once. Users who set
// either variable themselves keep their choice.
void settle_thread_pools(char** argv) {
  if (std::getenv("COTRAIN_THREAD_ENV_SET")) return;
  setenv("COTRAIN_THREAD_ENV_SET", "1", 1);
  bool changed = false;
  if (!std::getenv("OMP_WAIT_POLICY")) changed |= setenv("OMP_WAIT_POLICY", "passive", 1) == 0;
  if (!std::getenv("OPENBLAS_NUM_THREADS")) changed |= setenv("OPENBLAS_NUM_THREADS", "1", 1) == 0;
  if (changed) execv("/proc/self/exe", argv);  // on failure, carry on as we are
}

// Training allocates and frees the same large activations every step (the MLM
// logits over the vocabulary alone are ~75 MB). glibc serves blocks above its mmap
// threshold with fresh mappings and hands freed heap tops back to the kernel, so
// every step paid again for zeroed pages: ~700k page faults and ~15% of the MLM
// step. Keeping large blocks on the heap and not trimming it lets the next step
// reuse them (peak memory is what the step needs anyway; measured +2%).
void keep_freed_memory_for_reuse() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("GLIBC_TUNABLES")) return;  // user's choice
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  settle_thread_pools(argv);
  keep_freed_memory_for_reuse();
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
