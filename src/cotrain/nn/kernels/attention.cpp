#include "cotrain/nn/kernels/attention.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

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

struct AttentionFunction : torch::autograd::Function<AttentionFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q_in, const at::Tensor& k_in,
                            const at::Tensor& v_in, const at::Tensor& mask, int64_t heads, double p, bool training) {
    at::Tensor q = q_in.contiguous(), k = k_in.contiguous(), v = v_in.contiguous();
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(2) / heads));
    at::Tensor qh = heads_view(q, heads), kh = heads_view(k, heads), vh = heads_view(v, heads);
    at::Tensor scores = dnnl_matmul(qh, kh.transpose(-1, -2), {}, scale);  // [B, h, Tq, Tk]
    if (mask.numel() > 0) scores.add_(mask);  // an empty tensor stands for no mask
    at::Tensor probs = at::_softmax(scores, -1, false);
    const bool drop = training && p > 0;
    const uint64_t seed = drop ? draw_seed() : 0;
    at::Tensor used = probs;
    if (drop) {
      used = scores;  // reuse the buffer: scores are not needed any more
      dropout_apply(probs, used, p, seed);
    }
    at::Tensor context = at::empty_like(q);
    at::Tensor context_h = heads_view(context, heads);
    dnnl_matmul_into(used, vh, context_h);
    ctx->save_for_backward({q, k, v, probs});
    ctx->saved_data["heads"] = heads;
    ctx->saved_data["p"] = drop ? p : 0.0;
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);
    return context;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &probs = saved[3];
    const int64_t heads = ctx->saved_data["heads"].toInt();
    const double p = ctx->saved_data["p"].toDouble();
    const uint64_t seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(2) / heads));
    at::Tensor dcontext = grads[0].contiguous();
    at::Tensor qh = heads_view(q, heads), kh = heads_view(k, heads), vh = heads_view(v, heads);
    at::Tensor dch = heads_view(dcontext, heads);

    // The probabilities as used (after dropout) for dV; regenerated, not stored.
    at::Tensor used = probs;
    if (p > 0) {
      used = at::empty_like(probs);
      dropout_apply(probs, used, p, seed);
    }
    at::Tensor dv = at::empty_like(v);
    at::Tensor dvh = heads_view(dv, heads);
    dnnl_matmul_into(used.transpose(-1, -2), dch, dvh);  // P^T dC

    at::Tensor dprobs = dnnl_matmul(dch, vh.transpose(-1, -2));  // dC V^T: [B, h, Tq, Tk]
    if (p > 0) dropout_apply(dprobs, dprobs, p, seed);         // same mask, same scale
    at::Tensor dscores = at::_softmax_backward_data(dprobs, probs, -1, at::kFloat);

    at::Tensor dq = at::empty_like(q), dk = at::empty_like(k);
    at::Tensor dqh = heads_view(dq, heads), dkh = heads_view(dk, heads);
    dnnl_matmul_into(dscores, kh, dqh, {}, scale);                   // dS K
    dnnl_matmul_into(dscores.transpose(-1, -2), qh, dkh, {}, scale);  // dS^T Q
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
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

}  // namespace cotrain::nn::kernels
