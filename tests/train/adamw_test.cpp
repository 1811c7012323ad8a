// AdamW, clipping and the schedule against torch.optim.AdamW (tests/reference/adamw_ref.py).
#include <gtest/gtest.h>
#include <ATen/ATen.h>

#include "cotrain/io/safetensors.h"
#include "cotrain/train/adamw.h"
#include "cotrain/train/schedule.h"
#include "support/support.h"

using namespace cotrain;
namespace ct = cotrain::testing;

TEST(AdamW, MatchesTorchAdamWWithClippingAndSchedule) {
  const std::string dir = ct::scratch_dir("adamw");
  const int steps = 5, warmup = 2;
  ct::run_reference("adamw_ref.py", {"--out", dir, "--steps", std::to_string(steps), "--warmup", std::to_string(warmup)});
  io::TensorMap ref = io::load_safetensors(dir + "/adamw.safetensors").tensors;
  const std::vector<std::string> names = {"w.weight", "w.bias", "norm.LayerNorm.weight"};
  std::vector<train::NamedParameter> params;
  for (const auto& n : names) {
    at::Tensor p = ref.at("init." + n).to(at::kDouble).clone();
    params.push_back({n, p, !train::is_no_decay_name(n), 1.0});
  }
  OptimizerConfig config;
  config.lr = 1e-2;
  config.beta1 = 0.9;
  config.beta2 = 0.98;
  config.eps = 1e-6;
  config.weight_decay = 0.1;
  train::AdamW adam(params, config);
  ScheduleConfig schedule;
  schedule.warmup_updates = warmup;
  for (int step = 0; step < steps; ++step) {
    for (auto& p : params) p.param.mutable_grad() = ref.at("grad" + std::to_string(step) + "." + p.name).to(at::kDouble);
    const double norm = train::clip_grad_norm(params, 1.0);
    EXPECT_NEAR(norm, ref.at("norm" + std::to_string(step)).item<double>(), 1e-5 * norm) << "step " << step;
    adam.step(train::learning_rate(schedule, config.lr, step, steps));
  }
  io::TensorMap state = adam.state();
  for (const auto& p : params) {
    at::Tensor expected = ref.at("final." + p.name).to(at::kDouble);
    EXPECT_LT((p.param - expected).abs().max().item<double>(), 1e-6) << p.name;
    EXPECT_LT((state.at(p.name + ".exp_avg") - ref.at("final." + p.name + ".exp_avg").to(at::kDouble)).abs().max().item<double>(), 1e-6);
    EXPECT_LT((state.at(p.name + ".exp_avg_sq") - ref.at("final." + p.name + ".exp_avg_sq").to(at::kDouble)).abs().max().item<double>(), 1e-7);
  }
}

TEST(AdamW, NoDecayNamesAreBiasesAndLayerNorms) {
  EXPECT_TRUE(train::is_no_decay_name("bert.encoder.layer.0.output.dense.bias"));
  EXPECT_TRUE(train::is_no_decay_name("bert.embeddings.LayerNorm.weight"));
  EXPECT_TRUE(train::is_no_decay_name("cls.predictions.bias"));
  EXPECT_FALSE(train::is_no_decay_name("bert.encoder.layer.0.output.dense.weight"));
  EXPECT_FALSE(train::is_no_decay_name("bert.embeddings.word_embeddings.weight"));
}

TEST(Schedule, WarmupThenLinearDecayToZero) {
  ScheduleConfig s;
  s.warmup_updates = 4;
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 1.0, 0, 10), 0.25);
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 1.0, 3, 10), 1.0);
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 1.0, 4, 10), 1.0);
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 1.0, 7, 10), 0.5);
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 1.0, 10, 10), 0.0);
  s.kind = "constant";
  EXPECT_DOUBLE_EQ(train::learning_rate(s, 1.0, 9, 10), 1.0);
  ScheduleConfig f;
  f.warmup_fraction = 0.1;
  EXPECT_EQ(train::warmup_updates(f, 50), 5);
}
