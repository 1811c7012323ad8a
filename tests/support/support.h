// Helpers shared by the tests: scratch folders, the reference twins, the CLI.
#pragma once
#include <string>
#include <vector>

namespace cotrain::testing {

// A fresh empty folder under the build tree, removed at the end of the process
// unless COTRAIN_KEEP_TEST_FILES is set.
std::string scratch_dir(const std::string& name);

// Path of a file in the source tree, e.g. source_path("tests/reference/bert_twin.py").
std::string source_path(const std::string& relative);

// Runs `/usr/bin/python3 tests/reference/<script> args...`; the test fails with the
// script's output if it exits non-zero. Returns its standard output.
std::string run_reference(const std::string& script, const std::vector<std::string>& args);

struct CommandResult {
  int exit_code = 0;
  std::string output;  // stdout and stderr together
};
// Runs the built `cotrain` binary with `args` (shell-quoted for you).
CommandResult run_cotrain(const std::vector<std::string>& args);
// Runs any shell command line; stderr joins stdout unless merge_stderr is false.
CommandResult run_shell(const std::string& command_line, bool merge_stderr = true);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& contents);

}  // namespace cotrain::testing
