// Kill-and-resume of the trainer itself, without the `cotrain` binary: a child
// process trains the numbered-stream task of divergence_test.cpp and is SIGKILLed
// (by the COTRAIN_TEST_KILL_AT hook) in the middle of a checkpoint write and between
// publishing a checkpoint and pointing `latest` at it; further children resume.
// The end weights equal an uninterrupted run's bit for bit. (kill_resume_test.cpp
// does the same with `cotrain pretrain --task mlm`.)
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <signal.h>
#include <sys/wait.h>
#include <torch/nn/module.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cotrain/io/safetensors.h"
#include "cotrain/train/task.h"
#include "cotrain/train/trainer.h"
#include "support/support.h"

using namespace cotrain;
namespace ct = cotrain::testing;
namespace fs = std::filesystem;

namespace {

// Least squares on batch k: x = sin(arange(4) + k), target cos(0.7 k) plus noise
// from the trainer's generator and LibTorch's, so that both states matter on resume.
class CountingTask : public train::TrainTask {
 public:
  CountingTask() { w_ = module_.register_parameter("w", at::arange(4, at::kFloat).div(10)); }
  std::string name() const override { return "counting"; }
  torch::nn::Module& module() override { return module_; }
  std::vector<train::NamedParameter> parameters() override { return {{"w", w_, true, 1.0}}; }
  train::LossTerms next_loss(Rng& rng) override {
    const int64_t k = next_++;
    // One draw from our generator and one from LibTorch's, so that both states matter.
    const double noise = rng.uniform() + at::rand({1}).item<double>();
    at::Tensor x = at::sin(at::arange(4, at::kFloat).add(static_cast<double>(k)));
    at::Tensor loss = (w_.mul(x).sum() - (std::cos(0.7 * static_cast<double>(k)) + noise)).pow(2);
    train::LossTerms out;
    out.terms["total"] = loss;
    out.samples = 1;
    return out;
  }
  nlohmann::json data_state() const override { return {{"next", next_}}; }
  void restore_data_state(const nlohmann::json& s) override { next_ = s.at("next").get<int64_t>(); }
  void save_model(const std::string& dir) override { io::save_safetensors(dir + "/model.safetensors", {{"w", w_}}); }
  void load_model(const std::string& dir) override {
    at::NoGradGuard no_grad;
    w_.copy_(io::load_safetensors(dir + "/model.safetensors").tensors.at("w"));
  }

 private:
  torch::nn::Module module_;
  at::Tensor w_;
  int64_t next_ = 0;
};

Config counting_config() {
  Config c;
  c.trainer.max_updates = 12;
  c.trainer.save_every = 2;
  c.trainer.keep_checkpoints = 3;
  c.trainer.display_every = 1;
  c.optim.lr = 0.05;
  return c;
}

// Runs the trainer in a child process with COTRAIN_TEST_KILL_AT=`kill_at` (empty:
// unset); returns the child's wait status.
int run_child(const std::string& run, bool resume, const std::string& kill_at) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (kill_at.empty()) ::unsetenv("COTRAIN_TEST_KILL_AT");
    else ::setenv("COTRAIN_TEST_KILL_AT", kill_at.c_str(), 1);
    int code = 0;
    try {
      at::manual_seed(1234);  // as `cotrain pretrain` does; --resume then restores the generator
      CountingTask task;
      train::Trainer trainer(counting_config(), task, {run, resume, 0});
      trainer.run();
    } catch (...) {
      code = 3;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

std::string latest_of(const std::string& run) {
  std::string rel = ct::read_file(run + "/latest");
  while (!rel.empty() && rel.back() == '\n') rel.pop_back();
  return run + "/" + rel;
}

bool killed(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL; }
bool succeeded(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

}  // namespace

TEST(KillAndResumeInProcess, KilledDuringCheckpointWritesEndsWithTheUninterruptedWeights) {
  const std::string dir = ct::scratch_dir("kill-inprocess");
  ASSERT_TRUE(succeeded(run_child(dir + "/a", false, "")));

  const std::string run = dir + "/b";
  ASSERT_TRUE(killed(run_child(run, false, "checkpoint-write:2")));  // inside the write of update 4
  EXPECT_EQ(latest_of(run), run + "/checkpoints/update-0000002");
  ASSERT_TRUE(killed(run_child(run, true, "checkpoint-publish:2")));  // update 6 in place, latest = 4
  EXPECT_EQ(latest_of(run), run + "/checkpoints/update-0000004");
  ASSERT_TRUE(killed(run_child(run, true, "checkpoint-write:3")));  // writes 6 and 8, killed writing 10
  EXPECT_EQ(latest_of(run), run + "/checkpoints/update-0000008");
  ASSERT_TRUE(succeeded(run_child(run, true, "")));
  EXPECT_EQ(latest_of(run), run + "/checkpoints/update-0000012");

  for (const char* file : {"model.safetensors", "optimizer.safetensors"}) {
    auto a = io::load_safetensors(latest_of(dir + "/a") + "/" + file).tensors;
    auto b = io::load_safetensors(latest_of(run) + "/" + file).tensors;
    ASSERT_EQ(a.size(), b.size()) << file;
    for (const auto& [name, t] : a) EXPECT_TRUE(at::equal(t, b.at(name))) << file << " " << name;
  }
  auto pa = nlohmann::json::parse(ct::read_file(latest_of(dir + "/a") + "/progress.json"));
  auto pb = nlohmann::json::parse(ct::read_file(latest_of(run) + "/progress.json"));
  for (const char* key : {"update", "samples", "optimizer_steps", "rng", "data"}) EXPECT_EQ(pa[key], pb[key]) << key;
  // No temporary folder of the killed writers is left.
  for (const auto& e : fs::directory_iterator(run + "/checkpoints"))
    EXPECT_EQ(e.path().filename().string().find(".partial-"), std::string::npos) << e.path();

  // The newest checkpoint damaged: the resumed run goes back to update 10 and ends
  // with the same weights again.
  const std::string weights = latest_of(run) + "/model.safetensors";
  std::string bytes = ct::read_file(weights);
  bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 0x01);
  ct::write_file(weights, bytes);
  ASSERT_TRUE(succeeded(run_child(run, true, "")));
  auto a = io::load_safetensors(latest_of(dir + "/a") + "/model.safetensors").tensors;
  auto b = io::load_safetensors(latest_of(run) + "/model.safetensors").tensors;
  EXPECT_TRUE(at::equal(a.at("w"), b.at("w")));
}
