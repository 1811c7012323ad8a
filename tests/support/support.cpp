#include "support/support.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace cotrain::testing {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct ScratchRoot {
  fs::path root;
  ScratchRoot() {
    root = fs::current_path() / "test-scratch" / std::to_string(::getpid());
    fs::create_directories(root);
  }
  ~ScratchRoot() {
    if (!std::getenv("COTRAIN_KEEP_TEST_FILES")) {
      std::error_code ec;
      fs::remove_all(root, ec);
    }
  }
};

}  // namespace

std::string scratch_dir(const std::string& name) {
  static ScratchRoot scratch;
  fs::path dir = scratch.root / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string source_path(const std::string& relative) { return std::string(COTRAIN_SOURCE_DIR) + "/" + relative; }

CommandResult run_shell(const std::string& command_line, bool merge_stderr) {
  CommandResult result;
  FILE* pipe = ::popen((merge_stderr ? command_line + " 2>&1" : command_line).c_str(), "r");
  if (!pipe) {
    result.exit_code = -1;
    return result;
  }
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string run_reference(const std::string& script, const std::vector<std::string>& args) {
  std::string command = "/usr/bin/python3 " + shell_quote(source_path("tests/reference/" + script));
  for (const auto& a : args) command += " " + shell_quote(a);
  // stdout only: keep stderr apart so that a script's output can be parsed.
  std::string err_file = scratch_dir("reference-stderr") + "/stderr.txt";
  CommandResult r = run_shell(command + " 2>" + shell_quote(err_file), false);
  if (r.exit_code != 0) ADD_FAILURE() << "reference " << script << " failed (" << r.exit_code << "):\n" << r.output << read_file(err_file);
  return r.output;
}

CommandResult run_cotrain(const std::vector<std::string>& args) {
  std::string command = shell_quote(COTRAIN_BINARY);
  for (const auto& a : args) command += " " + shell_quote(a);
  return run_shell(command);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& contents) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

}  // namespace cotrain::testing
