#include "cotrain/nn/kernels/attention.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "cotrain/core/error.h"
#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/dnnl_matmul.h"
#include "cotrain/nn/kernels/dropout.h"

namespace cotrain::nn::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// [B, T, heads * d] seen as [B, heads, T, d] (a strided view, no copy).
at::Tensor heads_view(const at::Tensor& x, int64_t heads) {
  const int64_t B = x.size(0), T = x.size(1), d = x.size(2) / heads;
  return x.view({B, T, heads, d}).transpose(1, 2);
}

// The products and row passes shared by the separate and the packed forms. q, k, v
// (and their gradients) are per-head strided views [B, heads, T, d].
struct HeadViews {
  at::Tensor q, k, v;
};

// Writes the context into context_h; returns the probabilities before dropout
// (what backward needs; the dropped ones are regenerated from the seed).
at::Tensor attention_forward(const HeadViews& in, const at::Tensor& mask, double scale, double p, uint64_t seed,
                             at::Tensor& context_h) {
  at::Tensor scores = dnnl_matmul(in.q, in.k.transpose(-1, -2), {}, scale);  // [B, h, Tq, Tk]
  if (mask.numel() > 0) scores.add_(mask);  // an empty tensor stands for no mask
  at::Tensor probs = at::_softmax(scores, -1, false);
  at::Tensor used = probs;
  if (p > 0) {
    used = scores;  // reuse the buffer: scores are not needed any more
    dropout_apply(probs, used, p, seed);
  }
  dnnl_matmul_into(used, in.v, context_h);
  return probs;
}

void attention_backward(const HeadViews& in, const at::Tensor& probs, const at::Tensor& dch, double scale, double p,
                        uint64_t seed, HeadViews& grad) {
  // The probabilities as used (after dropout) for dV; regenerated, not stored.
  at::Tensor used = probs;
  if (p > 0) {
    used = at::empty_like(probs);
    dropout_apply(probs, used, p, seed);
  }
  dnnl_matmul_into(used.transpose(-1, -2), dch, grad.v);  // P^T dC

  at::Tensor dprobs = dnnl_matmul(dch, in.v.transpose(-1, -2));  // dC V^T: [B, h, Tq, Tk]
  if (p > 0) dropout_apply(dprobs, dprobs, p, seed);             // same mask, same scale
  at::Tensor dscores = at::_softmax_backward_data(dprobs, probs, -1, at::kFloat);
  dnnl_matmul_into(dscores, in.k, grad.q, {}, scale);                   // dS K
  dnnl_matmul_into(dscores.transpose(-1, -2), in.q, grad.k, {}, scale);  // dS^T Q
}

double head_scale(int64_t width, int64_t heads) {
  return 1.0 / std::sqrt(static_cast<double>(width / heads));
}

void save_dropout(AutogradContext* ctx, int64_t heads, double p, uint64_t seed) {
  ctx->saved_data["heads"] = heads;
  ctx->saved_data["p"] = p;
  ctx->saved_data["seed"] = static_cast<int64_t>(seed);
}

struct AttentionFunction : torch::autograd::Function<AttentionFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q_in, const at::Tensor& k_in,
                            const at::Tensor& v_in, const at::Tensor& mask, int64_t heads, double p, bool training) {
    RECORD_USER_SCOPE("cotrain::attention");  // named in profiles (backward: its CppNode)
    at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
    const double used_p = training && p > 0 ? p : 0.0;
    const uint64_t seed = used_p > 0 ? draw_seed() : 0;
    at::Tensor context = at::empty_like(q);
    at::Tensor context_h = heads_view(context, heads);
    at::Tensor probs = attention_forward({heads_view(q, heads), heads_view(k, heads), heads_view(v, heads)}, mask,
                                         head_scale(q.size(2), heads), used_p, seed, context_h);
    ctx->save_for_backward({q, k, v, probs});
    save_dropout(ctx, heads, used_p, seed);
    return context;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &probs = saved[3];
    const int64_t heads = ctx->saved_data["heads"].toInt();
    at::Tensor dcontext = grads[0].contiguous();
    at::Tensor dq = at::empty_like(q), dk = at::empty_like(k), dv = at::empty_like(v);
    HeadViews grad{heads_view(dq, heads), heads_view(dk, heads), heads_view(dv, heads)};
    attention_backward({heads_view(q, heads), heads_view(k, heads), heads_view(v, heads)}, probs,
                       heads_view(dcontext, heads), head_scale(q.size(2), heads), ctx->saved_data["p"].toDouble(),
                       static_cast<uint64_t>(ctx->saved_data["seed"].toInt()), grad);
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// q, k and v side by side in one [B, T, 3H] tensor (one product of the input with
// the three weights stacked): read in place, and their gradients written side by
// side, so the projection's backward is one product too and autograd never sums
// three input gradients.
HeadViews packed_heads(const at::Tensor& qkv, int64_t heads) {
  const int64_t H = qkv.size(2) / 3;
  return {heads_view(qkv.narrow(2, 0, H), heads), heads_view(qkv.narrow(2, H, H), heads),
          heads_view(qkv.narrow(2, 2 * H, H), heads)};
}

struct PackedAttentionFunction : torch::autograd::Function<PackedAttentionFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& qkv_in, const at::Tensor& mask, int64_t heads,
                            double p, bool training) {
    RECORD_USER_SCOPE("cotrain::packed_attention");  // named in profiles (backward: its CppNode)
    at::Tensor qkv = qkv_in.contiguous();
    const int64_t H = qkv.size(2) / 3;
    const double used_p = training && p > 0 ? p : 0.0;
    const uint64_t seed = used_p > 0 ? draw_seed() : 0;
    at::Tensor context = at::empty({qkv.size(0), qkv.size(1), H}, qkv.options());
    at::Tensor context_h = heads_view(context, heads);
    at::Tensor probs = attention_forward(packed_heads(qkv, heads), mask, head_scale(H, heads), used_p, seed, context_h);
    ctx->save_for_backward({qkv, probs});
    save_dropout(ctx, heads, used_p, seed);
    return context;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &qkv = saved[0], &probs = saved[1];
    const int64_t heads = ctx->saved_data["heads"].toInt();
    at::Tensor dcontext = grads[0].contiguous();
    at::Tensor dqkv = at::empty_like(qkv);
    HeadViews grad = packed_heads(dqkv, heads);
    attention_backward(packed_heads(qkv, heads), probs, heads_view(dcontext, heads),
                       head_scale(qkv.size(2) / 3, heads), ctx->saved_data["p"].toDouble(),
                       static_cast<uint64_t>(ctx->saved_data["seed"].toInt()), grad);
    return {dqkv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

bool fused_applies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                   int64_t heads) {
  auto ok = [](const at::Tensor& t) {
    return t.device().type() == at::kCPU && t.scalar_type() == at::kFloat && t.dim() == 3 && t.numel() > 0;
  };
  return ok(q) && ok(k) && ok(v) && q.size(2) % heads == 0 && k.sizes() == v.sizes() && q.size(2) == k.size(2) &&
         q.size(0) == k.size(0) && (!mask.defined() || !mask.requires_grad());
}

}  // namespace

at::Tensor attention_reference(const at::Tensor& q_in, const at::Tensor& k_in, const at::Tensor& v_in,
                               const at::Tensor& additive_mask, int64_t heads, double dropout_p, bool training) {
  const int64_t B = q_in.size(0), Tq = q_in.size(1), H = q_in.size(2), d = H / heads;
  auto split = [&](const at::Tensor& x) { return x.view({B, x.size(1), heads, d}).transpose(1, 2); };
  at::Tensor q = split(q_in), k = split(k_in), v = split(v_in);
  at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(d));
  if (additive_mask.defined()) scores = scores + additive_mask;
  at::Tensor probs = at::dropout(at::softmax(scores, -1), dropout_p, training);
  return at::matmul(probs, v).transpose(1, 2).reshape({B, Tq, H});
}

at::Tensor fused_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                           int64_t heads, double dropout_p, bool training) {
  // LibTorch 1.13's custom functions cannot take undefined tensors.
  return AttentionFunction::apply(q, k, v, mask.defined() ? mask : at::empty({0}, q.options()), heads, dropout_p,
                                  training);
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                     int64_t heads, double dropout_p, bool training) {
  if (fast_paths_enabled() && fused_applies(q, k, v, mask, heads))
    return fused_attention(q, k, v, mask, heads, dropout_p, training);
  return attention_reference(q, k, v, mask, heads, dropout_p, training);
}

at::Tensor packed_self_attention(const at::Tensor& qkv, const at::Tensor& mask, int64_t heads, double dropout_p,
                                 bool training) {
  const int64_t H = qkv.size(-1) / 3;
  if (qkv.dim() != 3 || qkv.size(-1) != 3 * H) fail("attention: packed q|k|v of shape [B, T, 3H] expected");
  at::Tensor q = qkv.narrow(2, 0, H), k = qkv.narrow(2, H, H), v = qkv.narrow(2, 2 * H, H);
  if (fast_paths_enabled() && fused_applies(q, k, v, mask, heads))
    return PackedAttentionFunction::apply(qkv, mask.defined() ? mask : at::empty({0}, qkv.options()), heads,
                                          dropout_p, training);
  return attention_reference(q, k, v, mask, heads, dropout_p, training);
}

}  // namespace cotrain::nn::kernels
