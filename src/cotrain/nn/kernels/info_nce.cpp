#include "cotrain/nn/kernels/info_nce.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <limits>

#include "cotrain/core/error.h"

namespace cotrain::nn::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Per row: max over the valid cells, log of their shifted exp-sum, and the same two
// over the positives (its own max, so that a positive far below the row maximum
// does not underflow to log 0). stats [N, 4]; row losses in double.
template <typename T>
void forward_rows(const T* L, const uint8_t* kind, T s, int64_t N, int64_t W, T* stats, double* row_loss) {
  at::parallel_for(0, N, 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T* l = L + i * W;
      const uint8_t* k = kind + i * W;
      T m_all = -std::numeric_limits<T>::infinity(), m_pos = m_all;
      for (int64_t j = 0; j < W; ++j) {
        if (k[j] == 0) continue;
        const T z = s * l[j];
        m_all = std::max(m_all, z);
        if (k[j] == 1) m_pos = std::max(m_pos, z);
      }
      T sum_all = 0, sum_pos = 0;
      for (int64_t j = 0; j < W; ++j) {
        if (k[j] == 0) continue;
        const T z = s * l[j];
        sum_all += std::exp(z - m_all);
        if (k[j] == 1) sum_pos += std::exp(z - m_pos);
      }
      const T lse_all = m_all + std::log(sum_all), lse_pos = m_pos + std::log(sum_pos);
      stats[4 * i] = lse_all;
      stats[4 * i + 1] = lse_pos;
      row_loss[i] = static_cast<double>(lse_all) - static_cast<double>(lse_pos);
    }
  });
}

// dL_ij = g * s * (p_all - p_pos); per-row contributions to ds kept for an ordered sum.
template <typename T>
void backward_rows(const T* L, const uint8_t* kind, T s, T g, int64_t N, int64_t W, const T* stats, T* dL,
                   double* ds_rows) {
  at::parallel_for(0, N, 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T* l = L + i * W;
      const uint8_t* k = kind + i * W;
      T* d = dL + i * W;
      const T lse_all = stats[4 * i], lse_pos = stats[4 * i + 1];
      double ds = 0;
      for (int64_t j = 0; j < W; ++j) {
        T dz = 0;
        if (k[j] != 0) {
          const T z = s * l[j];
          dz = std::exp(z - lse_all);
          if (k[j] == 1) dz -= std::exp(z - lse_pos);
          dz *= g;
        }
        d[j] = s * dz;
        ds += static_cast<double>(l[j]) * static_cast<double>(dz);
      }
      ds_rows[i] = ds;
    }
  });
}

struct InfoNceFunction : torch::autograd::Function<InfoNceFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& logits_in, const at::Tensor& kinds_in,
                            const at::Tensor& scale) {
    RECORD_USER_SCOPE("cotrain::info_nce");  // named in profiles (backward: its CppNode)
    at::Tensor logits = logits_in.contiguous();
    at::Tensor kinds = kinds_in.to(at::kByte).contiguous();
    const int64_t N = logits.size(0), W = logits.size(1);
    const uint8_t* k = kinds.data_ptr<uint8_t>();
    for (int64_t i = 0; i < N; ++i) {
      bool positive = false;
      for (int64_t j = 0; j < W; ++j) positive = positive || k[i * W + j] == 1;
      if (!positive) fail("info-nce: row {} of {} has no positive cell", i, N);
    }
    const bool has_scale = scale.numel() > 0;  // an empty tensor stands for scale 1
    at::Tensor stats = at::empty({N, 4}, logits.options());
    at::Tensor row_loss = at::empty({N}, logits.options().dtype(at::kDouble));
    if (logits.scalar_type() == at::kDouble)
      forward_rows<double>(logits.data_ptr<double>(), k, has_scale ? scale.item<double>() : 1.0, N, W,
                           stats.data_ptr<double>(), row_loss.data_ptr<double>());
    else
      forward_rows<float>(logits.data_ptr<float>(), k, has_scale ? scale.item<float>() : 1.0f, N, W,
                          stats.data_ptr<float>(), row_loss.data_ptr<double>());
    ctx->save_for_backward({logits, kinds, stats, scale});
    return (row_loss.sum() / static_cast<double>(N)).to(logits.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &logits = saved[0], &kinds = saved[1], &stats = saved[2], &scale = saved[3];
    const int64_t N = logits.size(0), W = logits.size(1);
    const bool has_scale = scale.numel() > 0;
    at::Tensor dL = at::empty_like(logits);
    at::Tensor ds_rows = at::empty({N}, logits.options().dtype(at::kDouble));
    const double g = grads[0].item<double>() / static_cast<double>(N);
    if (logits.scalar_type() == at::kDouble)
      backward_rows<double>(logits.data_ptr<double>(), kinds.data_ptr<uint8_t>(),
                            has_scale ? scale.item<double>() : 1.0, g, N, W, stats.data_ptr<double>(),
                            dL.data_ptr<double>(), ds_rows.data_ptr<double>());
    else
      backward_rows<float>(logits.data_ptr<float>(), kinds.data_ptr<uint8_t>(),
                           has_scale ? scale.item<float>() : 1.0f, static_cast<float>(g), N, W,
                           stats.data_ptr<float>(), dL.data_ptr<float>(), ds_rows.data_ptr<double>());
    at::Tensor ds;
    if (has_scale && ctx->needs_input_grad(2)) ds = ds_rows.sum().to(scale.scalar_type()).reshape(scale.sizes());
    return {dL, at::Tensor(), ds};
  }
};

}  // namespace

bool fused_info_nce_supports(const at::Tensor& logits) {
  return logits.defined() && logits.device().type() == at::kCPU &&
         (logits.scalar_type() == at::kFloat || logits.scalar_type() == at::kDouble) && logits.dim() == 2 &&
         logits.size(0) > 0 && logits.size(1) > 0;
}

at::Tensor fused_info_nce(const at::Tensor& logits, const at::Tensor& kinds, const at::Tensor& scale) {
  if (!fused_info_nce_supports(logits)) fail("info-nce: CPU float32/float64 logits [N, W] with N, W > 0 expected");
  if (!kinds.sizes().equals(logits.sizes())) fail("info-nce: kinds must have the logits' shape [N, W]");
  if (scale.defined() && scale.numel() != 1) fail("info-nce: the scale must be a single number");
  // LibTorch 1.13's custom functions cannot take undefined tensors: empty = no scale.
  at::Tensor s = scale.defined() ? scale.to(logits.scalar_type()) : at::empty({0}, logits.options());
  return InfoNceFunction::apply(logits, kinds, s);
}

at::Tensor info_nce_reference(const at::Tensor& logits, const at::Tensor& kinds, const at::Tensor& scale) {
  at::Tensor z = scale.defined() ? logits * scale : logits;
  const double lowest = -std::numeric_limits<double>::infinity();
  at::Tensor lse_all = at::logsumexp(z.masked_fill(kinds.eq(0), lowest), 1);
  at::Tensor lse_pos = at::logsumexp(z.masked_fill(kinds.ne(1), lowest), 1);
  return (lse_all - lse_pos).mean();
}

}  // namespace cotrain::nn::kernels
