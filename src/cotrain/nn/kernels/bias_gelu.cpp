#include "cotrain/nn/kernels/bias_gelu.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/column_partials.h"
#include "cotrain/nn/kernels/dnnl_matmul.h"
#include "cotrain/nn/kernels/fused_row_kernels.h"
#include "cotrain/nn/kernels/linear.h"

namespace cotrain::nn::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// a [M, K] @ b [K, N] (b may be a transposed view): oneDNN for float32/bfloat16, ATen otherwise.
at::Tensor product(const at::Tensor& a, const at::Tensor& b) {
  return a.scalar_type() == at::kDouble ? at::mm(a, b) : dnnl_matmul(a, b);
}

template <typename T>
void gelu_pass(const at::Tensor& pre, at::Tensor& out) {
  const T* p = pre.data_ptr<T>();
  T* o = out.data_ptr<T>();
  at::parallel_for(0, pre.numel(), 16384, [&](int64_t begin, int64_t end) {
    rows::gelu_forward(p + begin, o + begin, end - begin);
  });
}

// dpre = dout * gelu'(pre) and the bias gradient, in one pass.
template <typename T>
std::pair<at::Tensor, at::Tensor> gelu_backward_pass(const at::Tensor& dout, const at::Tensor& pre) {
  const int64_t M = pre.size(0), N = pre.size(1);
  at::Tensor dpre = at::empty_like(pre);
  const T* g = dout.data_ptr<T>();
  const T* p = pre.data_ptr<T>();
  T* d = dpre.data_ptr<T>();
  at::Tensor partials = run_column_blocks<T>(M, N, 1, pre.options(), [&](int64_t begin, int64_t end, T** sums) {
    rows::gelu_backward(g + begin * N, p + begin * N, d + begin * N, sums[0], end - begin, N);
  });
  return {dpre, reduce_column_blocks<T>(partials).view({N})};
}

struct LinearGeluFunction : torch::autograd::Function<LinearGeluFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, bool bf16) {
    RECORD_USER_SCOPE("cotrain::linear_gelu");  // named in profiles (backward: its CppNode)
    const int64_t in = weight.size(1), out = weight.size(0);
    const bool is_double = x.scalar_type() == at::kDouble;
    at::Tensor x2 = x.reshape({-1, in}).contiguous();
    at::Tensor w = weight.contiguous();
    if (bf16 && !is_double) {
      x2 = x2.to(at::kBFloat16);
      w = w.to(at::kBFloat16);
    }
    at::Tensor pre;
    if (is_double) {
      pre = at::addmm(bias, x2, w.t());
    } else {
      pre = at::empty({x2.size(0), out}, x.options());
      dnnl_matmul_into(x2, w.t(), pre, bias);  // bias added in oneDNN's epilogue
    }
    at::Tensor y = at::empty_like(pre);
    if (is_double) gelu_pass<double>(pre, y); else gelu_pass<float>(pre, y);
    ctx->save_for_backward({x2, w, pre});
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = out;
    return y.view(shape);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor &x2 = saved[0], &w = saved[1], &pre = saved[2];
    const int64_t in = w.size(1), out = w.size(0);
    at::Tensor dy = grads[0].reshape({-1, out}).contiguous();
    auto [dpre, db] = pre.scalar_type() == at::kDouble ? gelu_backward_pass<double>(dy, pre)
                                                       : gelu_backward_pass<float>(dy, pre);
    at::Tensor dpre_op = w.scalar_type() == at::kBFloat16 ? dpre.to(at::kBFloat16) : dpre;
    at::Tensor dx, dw;
    if (ctx->needs_input_grad(0)) {
      std::vector<int64_t> shape(grads[0].sizes().begin(), grads[0].sizes().end());
      shape.back() = in;
      dx = product(dpre_op, w).view(shape);  // [M, out] @ [out, in]
    }
    if (ctx->needs_input_grad(1)) dw = product(dpre_op.t(), x2);  // [out, M] @ [M, in]
    return {dx, dw, ctx->needs_input_grad(2) ? db : at::Tensor(), at::Tensor()};
  }
};

bool fused_applies(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  auto cpu = [&](const at::Tensor& t) {
    return t.defined() && t.device().type() == at::kCPU && t.scalar_type() == x.scalar_type();
  };
  return (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) && cpu(x) && cpu(weight) && cpu(bias) &&
         weight.dim() == 2 && bias.dim() == 1 && bias.size(0) == weight.size(0) && x.dim() >= 1 &&
         x.size(-1) == weight.size(1) && weight.numel() > 0 && x.numel() > 0;
}

}  // namespace

at::Tensor fused_linear_gelu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, bool bf16) {
  TORCH_CHECK(fused_applies(x, weight, bias), "fused_linear_gelu: CPU float32/float64 operands with a bias");
  return LinearGeluFunction::apply(x, weight, bias, bf16);
}

at::Tensor linear_gelu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (fast_paths_enabled() && x.scalar_type() == at::kFloat && fused_applies(x, weight, bias))
    return fused_linear_gelu(x, weight, bias, bf16_matmul_enabled());
  return at::gelu(fast_linear(x, weight, bias));
}

}  // namespace cotrain::nn::kernels
