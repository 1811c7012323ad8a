// Multi-head scaled dot-product attention as one autograd function:
//   context = dropout(softmax(q k^T / sqrt(d) + mask)) v, per head.
// q, k, v and the context stay in the [B, T, heads * d] layout the linear layers
// produce and consume; the oneDNN products read and write the per-head views
// through strides, so no transposed copy is made in either direction. Dropout
// masks are regenerated in backward from a seed (see dropout.h).
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::nn::kernels {

// q [B, Tq, H], k and v [B, Tk, H]; additive_mask broadcastable to [B, heads, Tq, Tk]
// or undefined. Returns [B, Tq, H]. Falls back to the ATen composition (the
// reference) when the fast paths are off or the inputs are not CPU float32.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& additive_mask,
                     int64_t heads, double dropout_p, bool training);

// Self-attention from one packed projection: qkv [B, T, 3H] holds q, k and v side
// by side along the last dim (the input times the three weights stacked). Same
// result as attention() on the three slices; the fused path reads them in place
// and returns their gradients in one [B, T, 3H] tensor.
at::Tensor packed_self_attention(const at::Tensor& qkv, const at::Tensor& additive_mask, int64_t heads,
                                 double dropout_p, bool training);

// The ATen composition, exactly as the BERT layers wrote it before the fused path.
at::Tensor attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                               const at::Tensor& additive_mask, int64_t heads, double dropout_p, bool training);

// The fused path unconditionally (for the tests).
at::Tensor fused_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                           const at::Tensor& additive_mask, int64_t heads, double dropout_p, bool training);

}  // namespace cotrain::nn::kernels
