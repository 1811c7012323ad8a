// Acceptance (issue 8): a `cotrain pretrain --task mlm` run killed with SIGKILL at
// several points - in the middle of a checkpoint write, between publishing a
// checkpoint folder and pointing `latest` at it, at an arbitrary moment of training
// and of start-up - and resumed each time with --resume ends with exactly the
// weights, optimizer state and logged losses of an uninterrupted run. Then a damaged
// newest checkpoint: --resume warns, falls back to the previous one and still ends
// bit for bit equal.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"
#include "cotrain/io/safetensors.h"
#include "support/support.h"

extern char** environ;

using cotrain::cli_test::split_lines;
using cotrain::cli_test::tiny_pretrain_args;
using cotrain::cli_test::write_tiny_data;
using cotrain::testing::read_file;
using cotrain::testing::run_shell;
using cotrain::testing::scratch_dir;
namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs the binary with COTRAIN_TEST_KILL_AT set (empty: unset).
cotrain::testing::CommandResult run_with_kill_point(const std::vector<std::string>& args, const std::string& point) {
  std::string line = point.empty() ? "" : "COTRAIN_TEST_KILL_AT=" + quote(point) + " ";
  line += quote(COTRAIN_BINARY);
  for (const auto& a : args) line += " " + quote(a);
  return run_shell(line);
}

std::string latest_of(const std::string& run) {
  std::string rel = read_file(run + "/latest");
  while (!rel.empty() && (rel.back() == '\n' || rel.back() == ' ')) rel.pop_back();
  return run + "/" + rel;
}

void expect_same_tensors(const std::string& a, const std::string& b) {
  SCOPED_TRACE(a + " vs " + b);
  auto ta = cotrain::io::load_safetensors(a).tensors;
  auto tb = cotrain::io::load_safetensors(b).tensors;
  ASSERT_EQ(ta.size(), tb.size());
  ASSERT_FALSE(ta.empty());
  for (const auto& [name, t] : ta) {
    auto it = tb.find(name);
    ASSERT_NE(it, tb.end()) << name;
    EXPECT_TRUE(t.sizes() == it->second.sizes() && at::equal(t, it->second)) << name << " differs";
  }
}

// update -> loss of every training record; a repeated update number fails the test.
std::map<int64_t, double> losses_of(const std::string& run) {
  std::map<int64_t, double> losses;
  for (const auto& line : split_lines(read_file(run + "/metrics.jsonl"))) {
    auto r = nlohmann::json::parse(line);
    if (r.contains("event")) continue;
    const int64_t u = r.at("update").get<int64_t>();
    EXPECT_EQ(losses.count(u), 0u) << "update " << u << " logged twice";
    losses[u] = r.at("loss").get<double>();
  }
  return losses;
}

// Starts the binary (output into `log`), waits until the log contains `marker`, then
// SIGKILLs it. Returns false if the process ended before the marker appeared.
bool kill_when_logged(const std::vector<std::string>& args, const std::string& log, const std::string& marker) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> storage = {COTRAIN_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, COTRAIN_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  bool seen = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    seen = read_file(log).find(marker) != std::string::npos;
    int status = 0;
    if (!seen && ::waitpid(pid, &status, WNOHANG) == pid) return false;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return seen && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

constexpr int kKilled = 128 + SIGKILL;  // what the shell reports for a SIGKILLed child

}  // namespace

// The same kill points as kill_resume_inprocess_test.cpp, through the real program:
// every kill is a SIGKILL of a `cotrain pretrain` process.
TEST(KillAndResume, SigkillAtManyPointsEndsWithTheUninterruptedWeights) {
  const std::string dir = scratch_dir("kill-resume");
  const auto data = write_tiny_data(dir);
  const int64_t updates = 12;
  const std::vector<std::string> sets = {"trainer.save_every=2", "trainer.keep_checkpoints=3"};

  const std::string run_a = dir + "/a";
  auto a = run_with_kill_point(tiny_pretrain_args(data, run_a, updates, sets), "");
  ASSERT_EQ(a.exit_code, 0) << a.output;

  const std::string run_b = dir + "/b";
  const auto args = tiny_pretrain_args(data, run_b, updates, sets);
  auto resume = args;
  resume.push_back("--resume");

  // 1. Killed in the middle of its second checkpoint write (update 4): the files are
  //    in the temporary folder, not yet checksummed or renamed; update 2 stays latest.
  auto b1 = run_with_kill_point(args, "checkpoint-write:2");
  ASSERT_EQ(b1.exit_code, kKilled) << b1.output;
  EXPECT_EQ(latest_of(run_b), run_b + "/checkpoints/update-0000002");
  bool partial_left = false;
  for (const auto& e : fs::directory_iterator(run_b + "/checkpoints"))
    partial_left |= e.path().filename().string().find(".partial-") != std::string::npos;
  EXPECT_TRUE(partial_left) << "the kill did not land inside the write";

  // 2. Resumed, then killed after its second checkpoint (update 6) was renamed into
  //    place but before `latest` named it.
  auto b2 = run_with_kill_point(resume, "checkpoint-publish:2");
  ASSERT_EQ(b2.exit_code, kKilled) << b2.output;
  EXPECT_EQ(latest_of(run_b), run_b + "/checkpoints/update-0000004");
  EXPECT_TRUE(fs::exists(run_b + "/checkpoints/update-0000006/progress.json"));
  // The dead writer's temporary folder from step 1 was cleared by this run.
  for (const auto& e : fs::directory_iterator(run_b + "/checkpoints"))
    EXPECT_EQ(e.path().filename().string().find(".partial-"), std::string::npos) << e.path();

  // 3. Killed at whatever moment update 9 is logged (between checkpoints), and
  //    4. killed during start-up of the next resume, before any update.
  ASSERT_TRUE(kill_when_logged(resume, dir + "/log3.txt", "update 9/")) << read_file(dir + "/log3.txt");
  ASSERT_TRUE(kill_when_logged(resume, dir + "/log4.txt", "resuming from")) << read_file(dir + "/log4.txt");

  // 5. Resumed to the end.
  auto b5 = run_with_kill_point(resume, "");
  ASSERT_EQ(b5.exit_code, 0) << b5.output;
  ASSERT_EQ(latest_of(run_b), run_b + "/checkpoints/update-0000012");

  const std::string end_a = latest_of(run_a), end_b = latest_of(run_b);
  expect_same_tensors(end_a + "/model.safetensors", end_b + "/model.safetensors");
  expect_same_tensors(end_a + "/optimizer.safetensors", end_b + "/optimizer.safetensors");
  const auto la = losses_of(run_a), lb = losses_of(run_b);
  ASSERT_EQ(la.size(), static_cast<size_t>(updates));
  EXPECT_EQ(la, lb);

  // 6. The newest checkpoint damaged on disk (one flipped byte in the weights):
  //    --resume says so, goes back to update 10, retrains 11 and 12, same end.
  const std::string weights = end_b + "/model.safetensors";
  std::string bytes = read_file(weights);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
  cotrain::testing::write_file(weights, bytes);
  auto b6 = run_with_kill_point(resume, "");
  ASSERT_EQ(b6.exit_code, 0) << b6.output;
  EXPECT_NE(b6.output.find("checkpoint damaged"), std::string::npos) << b6.output;
  EXPECT_NE(b6.output.find("update-0000010"), std::string::npos) << b6.output;
  expect_same_tensors(end_a + "/model.safetensors", latest_of(run_b) + "/model.safetensors");
  expect_same_tensors(end_a + "/optimizer.safetensors", latest_of(run_b) + "/optimizer.safetensors");
  EXPECT_EQ(losses_of(run_a), losses_of(run_b));
}

TEST(KillAndResume, UnwritableOutputIsReportedBeforeTraining) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only folders";
  const std::string dir = scratch_dir("unwritable");
  const auto data = write_tiny_data(dir);
  fs::create_directories(dir + "/locked");
  fs::permissions(dir + "/locked", fs::perms::owner_read | fs::perms::owner_exec);
  auto r = run_with_kill_point(tiny_pretrain_args(data, dir + "/locked/run", 2), "");
  fs::permissions(dir + "/locked", fs::perms::owner_all);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(r.output.find("update 1/"), std::string::npos) << r.output;
}
