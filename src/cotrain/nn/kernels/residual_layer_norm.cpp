#include "cotrain/nn/kernels/residual_layer_norm.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/column_partials.h"
#include "cotrain/nn/kernels/dropout.h"
#include "cotrain/nn/kernels/fused_row_kernels.h"

namespace cotrain::nn::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

rows::DropoutMask make_mask(double p, uint64_t seed) {
  rows::DropoutMask m;
  m.drop = p > 0;
  m.seed = seed;
  m.threshold = dropout_threshold(p);
  // The factor fast_dropout applies, rounded to float the same way for float32.
  m.scale = 1.0 / (1.0 - p);
  return m;
}

template <typename T>
void forward_rows(const at::Tensor& x, const at::Tensor& residual, const at::Tensor& gamma, const at::Tensor& beta,
                  at::Tensor& h, at::Tensor& out, at::Tensor& stats, double eps, const rows::DropoutMask& mask) {
  const int64_t H = x.size(1);
  at::parallel_for(0, x.size(0), std::max<int64_t>(1, 8192 / H), [&](int64_t begin, int64_t end) {
    rows::residual_layer_norm_forward(x.data_ptr<T>(), residual.data_ptr<T>(), gamma.data_ptr<T>(),
                                      beta.data_ptr<T>(), h.data_ptr<T>(), out.data_ptr<T>(), stats.data_ptr<T>(),
                                      begin, end, H, eps, mask);
  });
}

template <typename T>
at::Tensor backward_rows(const at::Tensor& dout, const at::Tensor& h, const at::Tensor& stats, const at::Tensor& gamma,
                         at::Tensor& dresidual, at::Tensor& dx, const rows::DropoutMask& mask) {
  const int64_t M = h.size(0), H = h.size(1);
  at::Tensor partials = run_column_blocks<T>(M, H, 2, h.options(), [&](int64_t begin, int64_t end, T** sums) {
    rows::residual_layer_norm_backward(dout.data_ptr<T>(), h.data_ptr<T>(), stats.data_ptr<T>(), gamma.data_ptr<T>(),
                                       dresidual.data_ptr<T>(), dx.data_ptr<T>(), sums[0], sums[1], begin, end, H,
                                       mask);
  });
  return reduce_column_blocks<T>(partials);  // [2, H]: dgamma, dbeta
}

struct ResidualLayerNormFunction : torch::autograd::Function<ResidualLayerNormFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x_in, const at::Tensor& residual_in,
                            const at::Tensor& gamma_in, const at::Tensor& beta_in, double eps, double p) {
    RECORD_USER_SCOPE("cotrain::residual_layer_norm");  // named in profiles (backward: its CppNode)
    const int64_t H = x_in.size(-1);
    at::Tensor x = x_in.reshape({-1, H}).contiguous(), residual = residual_in.reshape({-1, H}).contiguous();
    at::Tensor gamma = gamma_in.contiguous(), beta = beta_in.contiguous();
    TORCH_CHECK(x.numel() < (int64_t{1} << 32), "residual_dropout_layer_norm: more than 2^32 elements");
    const uint64_t seed = p > 0 ? draw_seed() : 0;
    const rows::DropoutMask mask = make_mask(p, seed);
    at::Tensor h = at::empty_like(x), out = at::empty_like(x);
    at::Tensor stats = at::empty({x.size(0), 2}, x.options());  // mean, 1 / std per row
    if (x.scalar_type() == at::kDouble) forward_rows<double>(x, residual, gamma, beta, h, out, stats, eps, mask);
    else forward_rows<float>(x, residual, gamma, beta, h, out, stats, eps, mask);
    ctx->save_for_backward({h, stats, gamma});
    ctx->saved_data["p"] = p;
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);
    return out.view(x_in.sizes());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &h = saved[0], &stats = saved[1], &gamma = saved[2];
    const rows::DropoutMask mask =
        make_mask(ctx->saved_data["p"].toDouble(), static_cast<uint64_t>(ctx->saved_data["seed"].toInt()));
    at::Tensor dout = grads[0].reshape(h.sizes()).contiguous();
    at::Tensor dresidual = at::empty_like(h), dx = at::empty_like(h);
    at::Tensor params = h.scalar_type() == at::kDouble ? backward_rows<double>(dout, h, stats, gamma, dresidual, dx, mask)
                                                       : backward_rows<float>(dout, h, stats, gamma, dresidual, dx, mask);
    const auto shape = grads[0].sizes();
    return {dx.view(shape), dresidual.view(shape), params[0], params[1], at::Tensor(), at::Tensor()};
  }
};

bool fused_applies(const at::Tensor& x, const at::Tensor& residual, const at::Tensor& gamma, const at::Tensor& beta) {
  auto same = [&](const at::Tensor& t) {
    return t.defined() && t.device().type() == at::kCPU && t.scalar_type() == x.scalar_type();
  };
  return (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) && same(x) && same(residual) &&
         same(gamma) && same(beta) && x.sizes() == residual.sizes() && x.dim() >= 1 && x.numel() > 0 &&
         gamma.dim() == 1 && beta.dim() == 1 && gamma.size(0) == x.size(-1) && beta.size(0) == x.size(-1);
}

}  // namespace

at::Tensor fused_residual_dropout_layer_norm(const at::Tensor& x, const at::Tensor& residual, const at::Tensor& gamma,
                                             const at::Tensor& beta, double eps, double dropout_p, bool training) {
  TORCH_CHECK(fused_applies(x, residual, gamma, beta),
              "residual_dropout_layer_norm: CPU float32/float64 x and residual of one shape, gamma and beta [H]");
  TORCH_CHECK(dropout_p >= 0 && dropout_p < 1, "residual_dropout_layer_norm: dropout probability in [0, 1)");
  return ResidualLayerNormFunction::apply(x, residual, gamma, beta, eps, training ? dropout_p : 0.0);
}

at::Tensor residual_dropout_layer_norm(const at::Tensor& x, const at::Tensor& residual, const at::Tensor& gamma,
                                       const at::Tensor& beta, double eps, double dropout_p, bool training) {
  if (fast_paths_enabled() && x.scalar_type() == at::kFloat && dropout_p < 1 && fused_applies(x, residual, gamma, beta))
    return fused_residual_dropout_layer_norm(x, residual, gamma, beta, eps, dropout_p, training);
  return at::layer_norm(fast_dropout(x, dropout_p, training) + residual, {x.size(-1)}, gamma, beta, eps);
}

}  // namespace cotrain::nn::kernels
