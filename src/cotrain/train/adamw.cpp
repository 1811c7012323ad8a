#include "cotrain/train/adamw.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <c10/core/GradMode.h>

#include <cmath>

#include "cotrain/core/error.h"
#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/adamw_update.h"

namespace cotrain::train {

bool is_no_decay_name(const std::string& name) {
  auto ends_with = [&](const char* suffix) {
    const std::string s(suffix);
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return ends_with("bias") || name.find("LayerNorm") != std::string::npos ||
         name.find("layer_norm") != std::string::npos || name.find("logit_scale") != std::string::npos;
}

AdamW::AdamW(std::vector<NamedParameter> params, const OptimizerConfig& config)
    : params_(std::move(params)), exp_avg_(params_.size()), exp_avg_sq_(params_.size()), config_(config) {}

void AdamW::zero_grad() {
  RECORD_USER_SCOPE("cotrain::zero_grad");
  for (auto& p : params_)
    if (p.param.grad().defined()) p.param.mutable_grad().zero_();
}

void AdamW::step(double lr) {
  RECORD_USER_SCOPE("cotrain::adamw_step");  // named in profiles
  c10::NoGradGuard no_grad;
  ++step_;
  const double b1 = config_.beta1, b2 = config_.beta2;
  const double bias_correction1 = 1.0 - std::pow(b1, static_cast<double>(step_));
  const double bias_correction2 = 1.0 - std::pow(b2, static_cast<double>(step_));
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    const at::Tensor& grad = p.param.grad();
    if (!grad.defined()) continue;
    if (!exp_avg_[i].defined()) {
      exp_avg_[i] = at::zeros_like(p.param);
      exp_avg_sq_[i] = at::zeros_like(p.param);
    }
    const double step_lr = lr * p.lr_scale;
    if (nn::fast_paths_enabled() && nn::kernels::adamw_fusable(p.param, grad, exp_avg_[i], exp_avg_sq_[i])) {
      // One pass instead of eight (same formula; see nn/kernels/adamw_update.h).
      nn::kernels::AdamWStep s;
      s.lr = step_lr;
      s.beta1 = b1;
      s.beta2 = b2;
      s.eps = config_.eps;
      s.weight_decay = p.decay ? config_.weight_decay : 0.0;
      s.bias_correction1 = bias_correction1;
      s.bias_correction2 = bias_correction2;
      nn::kernels::adamw_update(p.param, grad, exp_avg_[i], exp_avg_sq_[i], s);
      continue;
    }
    if (p.decay && config_.weight_decay != 0) p.param.mul_(1.0 - step_lr * config_.weight_decay);
    exp_avg_[i].mul_(b1).add_(grad, 1.0 - b1);
    exp_avg_sq_[i].mul_(b2).addcmul_(grad, grad, 1.0 - b2);
    at::Tensor denom = (exp_avg_sq_[i].sqrt() / std::sqrt(bias_correction2)).add_(config_.eps);
    p.param.addcdiv_(exp_avg_[i], denom, -step_lr / bias_correction1);
  }
}

io::TensorMap AdamW::state() const {
  io::TensorMap out;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!exp_avg_[i].defined()) continue;
    out[params_[i].name + ".exp_avg"] = exp_avg_[i];
    out[params_[i].name + ".exp_avg_sq"] = exp_avg_sq_[i];
  }
  return out;
}

void AdamW::load_state(const io::TensorMap& state, int64_t step_count) {
  step_ = step_count;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto m = state.find(params_[i].name + ".exp_avg");
    auto v = state.find(params_[i].name + ".exp_avg_sq");
    if (m == state.end() || v == state.end()) {
      exp_avg_[i] = exp_avg_sq_[i] = at::Tensor();
      continue;
    }
    if (!m->second.sizes().equals(params_[i].param.sizes()) || !v->second.sizes().equals(params_[i].param.sizes()))
      fail("optimizer state for '{}' has the wrong shape", params_[i].name);
    exp_avg_[i] = m->second.to(params_[i].param.options()).clone();
    exp_avg_sq_[i] = v->second.to(params_[i].param.options()).clone();
  }
}

double clip_grad_norm(const std::vector<NamedParameter>& params, double max_norm) {
  RECORD_USER_SCOPE("cotrain::clip_grad_norm");
  c10::NoGradGuard no_grad;
  double total = 0;
  for (const auto& p : params)
    if (p.param.grad().defined()) {
      const double n = p.param.grad().norm().item<double>();
      total += n * n;
    }
  total = std::sqrt(total);
  if (max_norm > 0 && total > max_norm) {
    const double scale = max_norm / (total + 1e-6);
    for (const auto& p : params)
      if (p.param.grad().defined()) p.param.mutable_grad().mul_(scale);
  }
  return total;
}

}  // namespace cotrain::train
