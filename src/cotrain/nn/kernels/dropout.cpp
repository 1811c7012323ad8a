#include "cotrain/nn/kernels/dropout.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <mutex>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/row_kernels.h"

namespace cotrain::nn::kernels {

namespace {

// Keep when bits >= p * 2^32; the fraction kept is 1 - p to within 2^-32.
inline uint32_t threshold(double p) {
  const double t = p * 4294967296.0;
  return t >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<uint32_t>(t);
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct DropoutFunction : torch::autograd::Function<DropoutFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, double p) {
    RECORD_USER_SCOPE("cotrain::dropout");  // named in profiles (backward: its CppNode)
    const uint64_t seed = draw_seed();
    at::Tensor xc = x.contiguous();
    at::Tensor out = at::empty_like(xc);
    dropout_apply(xc, out, p, seed);
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);
    ctx->saved_data["p"] = p;
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    at::Tensor g = grads[0].contiguous();
    at::Tensor dx = at::empty_like(g);
    dropout_apply(g, dx, ctx->saved_data["p"].toDouble(), static_cast<uint64_t>(ctx->saved_data["seed"].toInt()));
    return {dx, at::Tensor()};
  }
};

}  // namespace

uint64_t draw_seed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get<at::CPUGeneratorImpl>()->random64();
}

uint32_t dropout_threshold(double p) { return threshold(p); }

bool dropout_keeps(uint64_t seed, int64_t i, double p) {
  return rows::dropout_bits(seed, static_cast<uint32_t>(i)) >= threshold(p);
}

void dropout_apply(const at::Tensor& in, at::Tensor& out, double p, uint64_t seed) {
  TORCH_CHECK(in.is_contiguous() && out.is_contiguous() && in.scalar_type() == at::kFloat &&
                  out.scalar_type() == at::kFloat && in.numel() == out.numel(),
              "dropout_apply: float32 contiguous tensors of equal size");
  TORCH_CHECK(in.numel() < (int64_t{1} << 32), "dropout_apply: more than 2^32 elements");
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const uint32_t t = threshold(p);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  at::parallel_for(0, in.numel(), 16384,
                   [&](int64_t begin, int64_t end) { rows::dropout_range(src, dst, begin, end, seed, t, scale); });
}

at::Tensor fast_dropout(const at::Tensor& x, double p, bool training) {
  if (!training || p == 0) return x;
  if (!fast_paths_enabled() || x.device().type() != at::kCPU || x.scalar_type() != at::kFloat || p >= 1)
    return at::dropout(x, p, training);
  return DropoutFunction::apply(x, p);
}

}  // namespace cotrain::nn::kernels
