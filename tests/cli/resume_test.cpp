// Acceptance (issue 2): stop-and-resume equals uninterrupted training. A tiny BERT
// (dropout on, warm-up, gradient accumulation, one thread) is trained for 8 updates
// once without a stop (run A) and once stopped at 3 and 6 with --stop-after and
// continued with --resume (run B); the final model.safetensors and
// optimizer.safetensors must be bit for bit equal and metrics.jsonl must read the
// same. Also SIGTERM: the run saves a checkpoint, exits 0, and --resume finishes it.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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
using cotrain::testing::run_cotrain;
using cotrain::testing::scratch_dir;

namespace {

std::string latest_of(const std::string& run) {
  std::string rel = read_file(run + "/latest");
  while (!rel.empty() && (rel.back() == '\n' || rel.back() == ' ')) rel.pop_back();
  return run + "/" + rel;
}

// Every tensor of `a` and `b` equal in name, dtype, shape and bits.
void expect_same_tensors(const std::string& a, const std::string& b) {
  SCOPED_TRACE(a + " vs " + b);
  cotrain::io::TensorMap ta = cotrain::io::load_safetensors(a).tensors;
  cotrain::io::TensorMap tb = cotrain::io::load_safetensors(b).tensors;
  ASSERT_EQ(ta.size(), tb.size());
  ASSERT_FALSE(ta.empty());
  for (const auto& [name, t] : ta) {
    auto it = tb.find(name);
    ASSERT_NE(it, tb.end()) << name;
    EXPECT_EQ(t.scalar_type(), it->second.scalar_type()) << name;
    EXPECT_TRUE(t.sizes() == it->second.sizes() && at::equal(t, it->second)) << name << " differs";
  }
}

std::vector<nlohmann::json> metrics_of(const std::string& run) {
  std::vector<nlohmann::json> records;
  for (const auto& line : split_lines(read_file(run + "/metrics.jsonl"))) records.push_back(nlohmann::json::parse(line));
  return records;
}

TEST(CliStopAndResume, EqualsUninterruptedTraining) {
  const std::string dir = scratch_dir("resume");
  const auto data = write_tiny_data(dir);
  const int64_t updates = 8;

  const std::string run_a = dir + "/a";
  auto a = run_cotrain(tiny_pretrain_args(data, run_a, updates));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_EQ(latest_of(run_a), run_a + "/checkpoints/update-0000008");

  const std::string run_b = dir + "/b";
  auto args_b = tiny_pretrain_args(data, run_b, updates);
  auto stop3 = args_b;
  stop3.insert(stop3.end(), {"--stop-after", "3"});
  auto b1 = run_cotrain(stop3);
  ASSERT_EQ(b1.exit_code, 0) << b1.output;
  ASSERT_EQ(latest_of(run_b), run_b + "/checkpoints/update-0000003");
  // Kept in memory: checkpoints are pruned later, and the run must move on from here.
  cotrain::io::TensorMap at3 = cotrain::io::load_safetensors(latest_of(run_b) + "/model.safetensors").tensors;
  for (auto& [n, t] : at3) t = t.clone();

  auto stop6 = args_b;
  stop6.insert(stop6.end(), {"--resume", "--stop-after", "6"});
  auto b2 = run_cotrain(stop6);
  ASSERT_EQ(b2.exit_code, 0) << b2.output;
  ASSERT_EQ(latest_of(run_b), run_b + "/checkpoints/update-0000006");

  auto to_end = args_b;
  to_end.push_back("--resume");
  auto b3 = run_cotrain(to_end);
  ASSERT_EQ(b3.exit_code, 0) << b3.output;
  ASSERT_EQ(latest_of(run_b), run_b + "/checkpoints/update-0000008");

  const std::string end_a = latest_of(run_a), end_b = latest_of(run_b);
  expect_same_tensors(end_a + "/model.safetensors", end_b + "/model.safetensors");
  expect_same_tensors(end_a + "/optimizer.safetensors", end_b + "/optimizer.safetensors");

  // The weights did move after update 3, so equality above is not trivial.
  cotrain::io::TensorMap final_b = cotrain::io::load_safetensors(end_b + "/model.safetensors").tensors;
  size_t changed = 0;
  for (const auto& [name, t] : at3)
    if (final_b.count(name) && !at::equal(t, final_b.at(name))) ++changed;
  EXPECT_GT(changed, at3.size() / 2);

  // progress.json: the same position in the data and the same RNG state.
  auto pa = nlohmann::json::parse(read_file(end_a + "/progress.json"));
  auto pb = nlohmann::json::parse(read_file(end_b + "/progress.json"));
  for (const char* key : {"update", "samples", "optimizer_steps", "rng", "data"}) EXPECT_EQ(pa[key], pb[key]) << key;

  // metrics.jsonl: one record per update (display_every=1), the same losses.
  auto ma = metrics_of(run_a), mb = metrics_of(run_b);
  ASSERT_EQ(ma.size(), static_cast<size_t>(updates));
  ASSERT_EQ(mb.size(), ma.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_EQ(ma[i]["update"], mb[i]["update"]);
    EXPECT_EQ(ma[i]["samples"], mb[i]["samples"]);
    ASSERT_TRUE(ma[i].contains("loss"));
    EXPECT_EQ(ma[i]["loss"].get<double>(), mb[i]["loss"].get<double>());
    EXPECT_EQ(ma[i]["lr"].get<double>(), mb[i]["lr"].get<double>());
    EXPECT_EQ(ma[i]["grad_norm"].get<double>(), mb[i]["grad_norm"].get<double>());
  }
  // Warm-up then decay: the learning rate rises for 3 updates, then falls.
  EXPECT_LT(ma[0]["lr"].get<double>(), ma[2]["lr"].get<double>());
  EXPECT_GT(ma[3]["lr"].get<double>(), ma[7]["lr"].get<double>());
}

TEST(CliStopAndResume, SeedDecidesTheRun) {
  // The comparison above needs repeatable runs: the same seed twice gives the same
  // weights (fresh initialisation and dropout follow trainer.seed), another seed others.
  const std::string dir = scratch_dir("resume-seed");
  const auto data = write_tiny_data(dir);
  auto r1 = run_cotrain(tiny_pretrain_args(data, dir + "/s1", 2));
  auto r2 = run_cotrain(tiny_pretrain_args(data, dir + "/s2", 2));
  auto r3 = run_cotrain(tiny_pretrain_args(data, dir + "/s3", 2, {"trainer.seed=99"}));
  ASSERT_EQ(r1.exit_code, 0) << r1.output;
  ASSERT_EQ(r2.exit_code, 0) << r2.output;
  ASSERT_EQ(r3.exit_code, 0) << r3.output;
  expect_same_tensors(latest_of(dir + "/s1") + "/model.safetensors", latest_of(dir + "/s2") + "/model.safetensors");
  auto t1 = cotrain::io::load_safetensors(latest_of(dir + "/s1") + "/model.safetensors").tensors;
  auto t3 = cotrain::io::load_safetensors(latest_of(dir + "/s3") + "/model.safetensors").tensors;
  const std::string name = "bert.encoder.layer.0.attention.self.query.weight";
  ASSERT_TRUE(t1.count(name) && t3.count(name));
  EXPECT_FALSE(at::equal(t1.at(name), t3.at(name)));
}

// Starts the binary with stdout+stderr into `log`; returns its pid.
pid_t spawn_cotrain(const std::vector<std::string>& args, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> argv_storage = {COTRAIN_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, COTRAIN_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

TEST(CliStopAndResume, SigtermSavesACheckpointAndResumeFinishes) {
  const std::string dir = scratch_dir("sigterm");
  const auto data = write_tiny_data(dir);
  const int64_t updates = 200;
  const std::string run = dir + "/run";
  const auto args = tiny_pretrain_args(data, run, updates);
  const std::string log = dir + "/log.txt";
  const pid_t pid = spawn_cotrain(args, log);
  ASSERT_GT(pid, 0);

  // Wait for the first progress line ("update 1/200 ..."), then ask it to stop.
  bool started = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!started && std::chrono::steady_clock::now() < deadline) {
    started = read_file(log).find("update 1/") != std::string::npos;
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!started) ::kill(pid, SIGKILL);
  ASSERT_TRUE(started) << read_file(log);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << "\n"
                                 << read_file(log);
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_file(log);

  // A checkpoint short of the end exists (save_every=0: only the signal wrote it).
  auto progress = nlohmann::json::parse(read_file(latest_of(run) + "/progress.json"));
  const int64_t stopped_at = progress.at("update").get<int64_t>();
  EXPECT_GE(stopped_at, 1);
  ASSERT_LT(stopped_at, updates) << "the run ended before the signal arrived; nothing was tested";
  EXPECT_NE(read_file(log).find("--resume"), std::string::npos) << read_file(log);

  auto resumed_args = args;
  resumed_args.push_back("--resume");
  auto resumed = run_cotrain(resumed_args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(latest_of(run), run + "/checkpoints/update-0000200");
  auto metrics = metrics_of(run);
  ASSERT_EQ(metrics.size(), static_cast<size_t>(updates));
  for (size_t i = 0; i < metrics.size(); ++i) EXPECT_EQ(metrics[i]["update"].get<int64_t>(), static_cast<int64_t>(i + 1));
}

}  // namespace
