#include "cotrain/nn/kernels/linear.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include "cotrain/nn/fast_paths.h"
#include "cotrain/nn/kernels/dnnl_matmul.h"

namespace cotrain::nn::kernels {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct LinearFunction : torch::autograd::Function<LinearFunction> {
  // bf16: operands rounded to bfloat16 for all three products (see fast_paths.h).
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, bool bf16) {
    RECORD_USER_SCOPE("cotrain::linear");  // named in profiles (backward: its CppNode)
    const int64_t in = weight.size(1), out = weight.size(0);
    at::Tensor x2 = x.reshape({-1, in}).contiguous();
    at::Tensor w = weight.contiguous();
    if (bf16) {
      x2 = x2.to(at::kBFloat16);
      w = w.to(at::kBFloat16);
    }
    at::Tensor y = at::empty({x2.size(0), out}, x.options());
    const bool has_bias = bias.numel() > 0;  // an empty tensor stands for "no bias"
    if (x2.size(0) > 0) dnnl_matmul_into(x2, w.t(), y, has_bias ? bias : at::Tensor());
    ctx->save_for_backward({x2, w});
    ctx->saved_data["has_bias"] = has_bias;
    ctx->saved_data["bf16"] = bf16;
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = out;
    return y.view(shape);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& x2 = saved[0];
    const at::Tensor& w = saved[1];
    const int64_t in = w.size(1), out = w.size(0);
    at::Tensor dy = grads[0].reshape({-1, out}).contiguous();
    at::Tensor dy_op = ctx->saved_data["bf16"].toBool() ? dy.to(at::kBFloat16) : dy;
    at::Tensor dx, dw, db;
    const bool empty = dy.size(0) == 0;
    const auto f32 = grads[0].options().dtype(at::kFloat);
    if (ctx->needs_input_grad(0)) {
      dx = empty ? at::zeros({0, in}, f32) : dnnl_matmul(dy_op, w);  // [M, out] @ [out, in]
      std::vector<int64_t> shape(grads[0].sizes().begin(), grads[0].sizes().end());
      shape.back() = in;
      dx = dx.view(shape);
    }
    if (ctx->needs_input_grad(1))
      dw = empty ? at::zeros({out, in}, f32) : dnnl_matmul(dy_op.t(), x2);  // [out, M] @ [M, in]
    if (ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(2)) db = dy.sum(0);
    return {dx, dw, db, at::Tensor()};
  }
};

bool fast_linear_applies(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  auto cpu_float = [](const at::Tensor& t) { return t.device().type() == at::kCPU && t.scalar_type() == at::kFloat; };
  return cpu_float(x) && cpu_float(weight) && (!bias.defined() || cpu_float(bias)) && weight.dim() == 2 &&
         x.dim() >= 1 && x.size(-1) == weight.size(1) && weight.numel() > 0;
}

}  // namespace

at::Tensor dnnl_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, bool bf16) {
  // LibTorch 1.13's custom functions cannot take undefined tensors: an empty one
  // stands for a missing bias.
  return LinearFunction::apply(x, weight, bias.defined() ? bias : at::empty({0}, weight.options()), bf16);
}

at::Tensor fast_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  if (fast_paths_enabled() && fast_linear_applies(x, weight, bias)) return dnnl_linear(x, weight, bias, bf16_matmul_enabled());
  return at::linear(x, weight, bias);
}

}  // namespace cotrain::nn::kernels
