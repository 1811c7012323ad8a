// Divergence recovery in the trainer (issue 8) on a task small enough to reason
// about: a linear least-squares model fed a numbered stream of batches, where chosen
// batch numbers are poisoned (NaN loss, or a loss spike). A poisoned batch must roll
// the run back to its last checkpoint and be skipped, which ends with exactly the
// weights of a run whose stream never contained it; the rollback is logged; the
// limit recovery.max_rollbacks stops a run that keeps diverging.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/train/divergence_guard.h"
#include "cotrain/train/task.h"
#include "cotrain/train/trainer.h"
#include "support/support.h"

using namespace cotrain;
namespace ct = cotrain::testing;

namespace {

class StreamTask : public train::TrainTask {
 public:
  // `poison`: batch numbers whose loss is multiplied by `factor` (NaN or a spike).
  // `absent`: batch numbers the stream does not contain at all.
  StreamTask(std::set<int64_t> poison, double factor, std::set<int64_t> absent = {})
      : poison_(std::move(poison)), factor_(factor), absent_(std::move(absent)) {
    w_ = module_.register_parameter("w", at::arange(4, at::kFloat).div(10));
  }
  std::string name() const override { return "stream"; }
  torch::nn::Module& module() override { return module_; }
  std::vector<train::NamedParameter> parameters() override { return {{"w", w_, true, 1.0}}; }
  train::LossTerms next_loss(Rng& rng) override {
    while (absent_.count(next_)) ++next_;
    const int64_t k = next_++;
    drawn_.push_back(k);
    at::Tensor x = at::sin(at::arange(4, at::kFloat).add(static_cast<double>(k)));
    const double target = std::cos(0.7 * static_cast<double>(k));
    at::Tensor loss = (w_.mul(x).sum() - target).pow(2);
    if (poison_.count(k)) loss = loss * factor_;
    train::LossTerms out;
    out.terms["total"] = loss;
    out.samples = 1;
    out.tokens = 4;
    return out;
  }
  nlohmann::json data_state() const override { return {{"next", next_}}; }
  void restore_data_state(const nlohmann::json& state) override { next_ = state.at("next").get<int64_t>(); }
  void save_model(const std::string& dir) override { io::save_safetensors(dir + "/model.safetensors", {{"w", w_}}); }
  void load_model(const std::string& dir) override {
    at::NoGradGuard no_grad;
    w_.copy_(io::load_safetensors(dir + "/model.safetensors").tensors.at("w"));
  }
  at::Tensor weights() const { return w_.detach().clone(); }
  std::vector<int64_t> drawn_;

 private:
  torch::nn::Module module_;
  at::Tensor w_;
  std::set<int64_t> poison_;
  double factor_;
  std::set<int64_t> absent_;
  int64_t next_ = 0;
};

Config small_config(int64_t updates) {
  Config c;
  c.trainer.max_updates = updates;
  c.trainer.save_every = 3;
  c.trainer.keep_checkpoints = 2;
  c.trainer.display_every = 1;
  c.trainer.accumulate = 1;
  c.optim.lr = 0.05;
  c.schedule.kind = "constant";
  return c;
}

std::vector<nlohmann::json> metrics_of(const std::string& run) {
  std::vector<nlohmann::json> out;
  const std::string text = ct::read_file(run + "/metrics.jsonl");
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    if (end > begin) out.push_back(nlohmann::json::parse(text.substr(begin, end - begin)));
    begin = end + 1;
  }
  return out;
}

at::Tensor train_stream(const std::string& run, const Config& config, StreamTask& task) {
  train::Trainer trainer(config, task, {run, false, 0});
  auto result = trainer.run();
  EXPECT_EQ(result.updates, config.trainer.max_updates);
  return task.weights();
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST(DivergenceGuard, JudgesNonFiniteValuesAndSpikes) {
  RecoveryConfig c;
  c.spike_factor = 3;
  c.spike_window = 2;
  train::DivergenceGuard guard(c);
  EXPECT_NE(guard.check(kNaN, 1.0).find("loss is nan"), std::string::npos);
  EXPECT_NE(guard.check(1.0, INFINITY).find("gradient norm is inf"), std::string::npos);
  EXPECT_EQ(guard.check(100.0, 1.0), "");  // no average yet
  guard.accept(1.0);
  EXPECT_EQ(guard.check(100.0, 1.0), "");  // window not full
  guard.accept(2.0);                        // average 1.5
  EXPECT_EQ(guard.check(4.5, 1.0), "");     // exactly 3x: not above
  EXPECT_NE(guard.check(4.51, 1.0).find("times its moving average 1.5"), std::string::npos);
  guard.accept(4.0);  // window {2, 4}: average 3
  EXPECT_EQ(guard.check(9.0, 1.0), "");
  EXPECT_NE(guard.check(9.1, 1.0), "");
  // State survives a checkpoint.
  train::DivergenceGuard copy(c);
  copy.restore_state(guard.state());
  EXPECT_NE(copy.check(9.1, 1.0), "");
  EXPECT_EQ(copy.check(9.0, 1.0), "");
  // Rollbacks are counted and limited; skips are taken once.
  RecoveryConfig limited;
  limited.max_rollbacks = 1;
  train::DivergenceGuard g(limited);
  EXPECT_TRUE(g.begin_rollback(5));
  EXPECT_FALSE(g.begin_rollback(6));
  EXPECT_EQ(g.skips_at(5), 1);
  EXPECT_EQ(g.skips_at(6), 0);
  RecoveryConfig bad;
  bad.spike_factor = 0.5;
  EXPECT_THROW(train::DivergenceGuard{bad}, Error);
}

TEST(DivergenceRecovery, NanBatchIsRolledBackAndSkipped) {
  const std::string dir = ct::scratch_dir("diverge-nan");
  const Config config = small_config(10);
  // Batches 0..6 feed updates 1..7; batch 7 (update 8) is NaN. Checkpoints at 3 and 6.
  StreamTask poisoned({7}, kNaN);
  const at::Tensor w_poisoned = train_stream(dir + "/poisoned", config, poisoned);
  StreamTask clean({}, 1.0, {7});
  const at::Tensor w_clean = train_stream(dir + "/clean", config, clean);
  EXPECT_TRUE(at::equal(w_poisoned, w_clean)) << w_poisoned << w_clean;
  EXPECT_TRUE(at::isfinite(w_poisoned).all().item<bool>());
  // The replay drew 6 and 7 again (7 dropped unseen), then went on with 8.
  const std::vector<int64_t> expected = {0, 1, 2, 3, 4, 5, 6, 7, 6, 7, 8, 9, 10};
  EXPECT_EQ(poisoned.drawn_, expected);

  // metrics.jsonl: the rollback event, and every update 1..10 exactly once.
  std::vector<int64_t> updates;
  int rollbacks = 0;
  for (const auto& r : metrics_of(dir + "/poisoned")) {
    if (r.value("event", "") == "rollback") {
      ++rollbacks;
      EXPECT_EQ(r.at("update").get<int64_t>(), 8);
      EXPECT_EQ(r.at("to_update").get<int64_t>(), 6);
      EXPECT_NE(r.at("reason").get<std::string>().find("nan"), std::string::npos) << r;
    } else {
      updates.push_back(r.at("update").get<int64_t>());
    }
  }
  EXPECT_EQ(rollbacks, 1);
  EXPECT_EQ(updates, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  // The count is kept in the checkpoint for a resumed run.
  auto progress = nlohmann::json::parse(ct::read_file(dir + "/poisoned/checkpoints/update-0000010/progress.json"));
  EXPECT_EQ(progress.at("recovery").at("rollbacks").get<int64_t>(), 1);
}

TEST(DivergenceRecovery, LossSpikeIsRolledBackWhenSpikeCheckIsOn) {
  const std::string dir = ct::scratch_dir("diverge-spike");
  Config config = small_config(12);
  config.recovery.spike_factor = 20;
  config.recovery.spike_window = 3;
  StreamTask spiked({9}, 1e4);
  const at::Tensor w_spiked = train_stream(dir + "/spiked", config, spiked);
  StreamTask clean({}, 1.0, {9});
  const at::Tensor w_clean = train_stream(dir + "/clean", config, clean);
  EXPECT_TRUE(at::equal(w_spiked, w_clean)) << w_spiked << w_clean;
  // Without the spike check the batch is trained on, and the weights end elsewhere.
  config.recovery.spike_factor = 0;
  StreamTask unguarded({9}, 1e4);
  const at::Tensor w_unguarded = train_stream(dir + "/unguarded", config, unguarded);
  EXPECT_FALSE(at::equal(w_unguarded, w_clean));
}

TEST(DivergenceRecovery, RollbackLimitStopsTheRun) {
  const std::string dir = ct::scratch_dir("diverge-limit");
  Config config = small_config(12);
  config.recovery.max_rollbacks = 2;
  std::set<int64_t> from_five;
  for (int64_t k = 5; k < 100; ++k) from_five.insert(k);
  StreamTask task(from_five, kNaN);
  train::Trainer trainer(config, task, {dir + "/run", false, 0});
  try {
    trainer.run();
    FAIL() << "expected the run to stop";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("training diverged at update"), std::string::npos) << what;
    EXPECT_NE(what.find("recovery.max_rollbacks 2 reached"), std::string::npos) << what;
  }
  // Two rollbacks at update 6 were logged before it stopped; the second replay
  // dropped two batches there (5 and 6) and met the third bad one.
  int rollbacks = 0;
  for (const auto& r : metrics_of(dir + "/run")) rollbacks += r.value("event", "") == "rollback";
  EXPECT_EQ(rollbacks, 2);
  const std::vector<int64_t> expected = {0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 3, 4, 5, 6, 7};
  EXPECT_EQ(task.drawn_, expected);
}

TEST(DivergenceRecovery, WithoutACheckpointOrWithRollbacksOffTheRunStops) {
  const std::string dir = ct::scratch_dir("diverge-stop");
  {
    StreamTask task({1}, kNaN);  // update 2, before the first checkpoint (3)
    train::Trainer trainer(small_config(6), task, {dir + "/early", false, 0});
    try {
      trainer.run();
      FAIL() << "expected the run to stop";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("at update 2: loss is nan (no checkpoint yet"), std::string::npos)
          << e.what();
    }
  }
  {
    Config config = small_config(6);
    config.recovery.max_rollbacks = 0;
    StreamTask task({4}, kNaN);
    train::Trainer trainer(config, task, {dir + "/off", false, 0});
    EXPECT_THROW(trainer.run(), Error);
  }
}
