#include "cotrain/nn/kernels/dropout.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <mutex>

#include "cotrain/nn/fast_paths.h"

// Lets GCC vectorise the select in the masking loop (no floating-point traps used).
#pragma GCC optimize("no-trapping-math")

namespace cotrain::nn::kernels {

namespace {

// 32 random bits for element i of the call with this seed: the murmur3 finaliser
// of a 32-bit counter mixed with both halves of the seed. Counter-based, so any
// element can be regenerated alone and threads need no shared state.
__attribute__((always_inline)) inline uint32_t bits(uint32_t seed_lo, uint32_t seed_hi, uint32_t i) {
  uint32_t h = i * 0x9E3779B1u + seed_lo;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  h += seed_hi;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  return h;
}

// Keep when bits >= p * 2^32; the fraction kept is 1 - p to within 2^-32.
inline uint32_t threshold(double p) {
  const double t = p * 4294967296.0;
  return t >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<uint32_t>(t);
}

// Compiled for AVX-512, AVX2 and the baseline; the loader picks one per machine.
__attribute__((target_clones("avx512f", "avx2", "default"))) void mask_range(const float* src, float* dst,
                                                                              int64_t begin, int64_t end,
                                                                              uint32_t lo, uint32_t hi, uint32_t t,
                                                                              float scale) {
  for (int64_t i = begin; i < end; ++i) dst[i] = bits(lo, hi, static_cast<uint32_t>(i)) >= t ? src[i] * scale : 0.0f;
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct DropoutFunction : torch::autograd::Function<DropoutFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, double p) {
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

bool dropout_keeps(uint64_t seed, int64_t i, double p) {
  return bits(static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(i)) >=
         threshold(p);
}

void dropout_apply(const at::Tensor& in, at::Tensor& out, double p, uint64_t seed) {
  TORCH_CHECK(in.is_contiguous() && out.is_contiguous() && in.scalar_type() == at::kFloat &&
                  out.scalar_type() == at::kFloat && in.numel() == out.numel(),
              "dropout_apply: float32 contiguous tensors of equal size");
  TORCH_CHECK(in.numel() < (int64_t{1} << 32), "dropout_apply: more than 2^32 elements");
  const float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const uint32_t lo = static_cast<uint32_t>(seed), hi = static_cast<uint32_t>(seed >> 32), t = threshold(p);
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  at::parallel_for(0, in.numel(), 16384,
                   [&](int64_t begin, int64_t end) { mask_range(src, dst, begin, end, lo, hi, t, scale); });
}

at::Tensor fast_dropout(const at::Tensor& x, double p, bool training) {
  if (!training || p == 0) return x;
  if (!fast_paths_enabled() || x.device().type() != at::kCPU || x.scalar_type() != at::kFloat || p >= 1)
    return at::dropout(x, p, training);
  return DropoutFunction::apply(x, p);
}

}  // namespace cotrain::nn::kernels
