// Matrix products through oneDNN's matmul primitive. ATen's fp32 products on CPU go
// through OpenBLAS (single-threaded inside cotrain, see apps/cotrain/main.cpp) and
// reach a fraction of what oneDNN's JIT kernels do on AVX-512 machines.
//
// Operands are taken as they lie in memory: any strides, so a transposed view
// (w.t(), x.transpose(1, 2)) costs no copy; oneDNN reads it with a transposed
// layout. Primitives are built once per shape/stride combination and cached.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::nn::kernels {

// True when oneDNN can take these operands: CPU float32 (or both bfloat16), 2 to 4
// dims, no zero-sized dims and no zero strides (broadcast views go to ATen).
bool dnnl_matmul_supported(const at::Tensor& a, const at::Tensor& b);

// out[..., M, N] = alpha * (a[..., M, K] @ b[..., K, N]) (+ bias[N]) (+ beta_one ? out : 0)
// The leading (batch) dims of a, b and out must be equal. `out` must already have
// the right shape; it may be a strided view. With accumulate, the product is added
// to what out holds (used for gradients of shared weights).
void dnnl_matmul_into(const at::Tensor& a, const at::Tensor& b, at::Tensor& out, const at::Tensor& bias = {},
                      double alpha = 1.0, bool accumulate = false);

// With bfloat16 operands the product is accumulated and returned in float32 (on
// CPUs with AMX or avx512_bf16 oneDNN runs it at several times the fp32 rate).
//
// Convenience: a fresh contiguous float32 result.
at::Tensor dnnl_matmul(const at::Tensor& a, const at::Tensor& b, const at::Tensor& bias = {}, double alpha = 1.0);

// Number of primitives built so far (tests check that the cache is used).
int64_t dnnl_primitives_built();

}  // namespace cotrain::nn::kernels
