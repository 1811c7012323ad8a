#include "cotrain/nn/kernels/dnnl_matmul.h"

#include <ATen/ATen.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <tuple>
#include <vector>

#include "cotrain/core/error.h"

namespace cotrain::nn::kernels {

namespace {

using dims = dnnl::memory::dims;

struct Key {
  dims a_dims, a_strides, b_dims, b_strides, c_dims, c_strides;
  bool bias = false, accumulate = false;
  float alpha = 1.0f;
  bool bf16 = false;  // operands in bfloat16 (result and bias stay float32)
  bool operator<(const Key& o) const {
    return std::tie(a_dims, a_strides, b_dims, b_strides, c_dims, c_strides, bias, accumulate, alpha, bf16) <
           std::tie(o.a_dims, o.a_strides, o.b_dims, o.b_strides, o.c_dims, o.c_strides, o.bias, o.accumulate,
                    o.alpha, o.bf16);
  }
};

struct Cached {
  dnnl::memory::desc a, b, c, bias;
  dnnl::matmul primitive;
};

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

std::atomic<int64_t> built{0};

// Shapes in training are few (one per layer kind), but the number of predicted
// positions changes from batch to batch; the cache is emptied if it ever grows large.
constexpr size_t kMaxCached = 512;

dims to_dims(at::IntArrayRef r) { return dims(r.begin(), r.end()); }

std::string shape(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

// Returned by value: the handles are shared pointers, and the cache may be emptied
// by another thread while this one executes.
Cached primitive_for(const Key& key) {
  static std::mutex mutex;
  static std::map<Key, Cached> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kMaxCached) cache.clear();
  using dt = dnnl::memory::data_type;
  Cached c;
  const dt operand = key.bf16 ? dt::bf16 : dt::f32;
  c.a = dnnl::memory::desc(key.a_dims, operand, key.a_strides);
  c.b = dnnl::memory::desc(key.b_dims, operand, key.b_strides);
  c.c = dnnl::memory::desc(key.c_dims, dt::f32, key.c_strides);
  dnnl::primitive_attr attr;
  if (key.alpha != 1.0f) attr.set_output_scales(0, {key.alpha});
  if (key.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  if (key.bias) {
    // Bias broadcast over every dim but the last.
    dims bias_dims(key.c_dims.size(), 1), bias_strides(key.c_dims.size(), key.c_dims.back());
    bias_dims.back() = key.c_dims.back();
    bias_strides.back() = 1;
    c.bias = dnnl::memory::desc(bias_dims, dt::f32, bias_strides);
  }
  dnnl::matmul::desc desc = key.bias ? dnnl::matmul::desc(c.a, c.b, c.bias, c.c) : dnnl::matmul::desc(c.a, c.b, c.c);
  dnnl::matmul::primitive_desc pd(desc, attr, cpu_engine());
  c.primitive = dnnl::matmul(pd);
  ++built;
  return cache.emplace(key, std::move(c)).first->second;
}

bool usable(const at::Tensor& t, at::ScalarType dtype = at::kFloat) {
  if (!t.defined() || t.device().type() != at::kCPU || t.scalar_type() != dtype) return false;
  if (t.dim() < 2 || t.dim() > 4 || t.numel() == 0) return false;
  for (int64_t s : t.strides())
    if (s <= 0) return false;
  return true;
}

}  // namespace

bool dnnl_matmul_supported(const at::Tensor& a, const at::Tensor& b) {
  const at::ScalarType dtype = a.defined() && a.scalar_type() == at::kBFloat16 ? at::kBFloat16 : at::kFloat;
  return usable(a, dtype) && usable(b, dtype) && a.dim() == b.dim() && a.size(-1) == b.size(-2) &&
         a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2);
}

void dnnl_matmul_into(const at::Tensor& a, const at::Tensor& b, at::Tensor& out, const at::Tensor& bias, double alpha,
                      bool accumulate) {
  if (!dnnl_matmul_supported(a, b) || !usable(out))
    fail("dnnl_matmul: unsupported operands {} x {} -> {}", shape(a), shape(b), shape(out));
  const int64_t M = a.size(-2), N = b.size(-1);
  if (out.dim() != a.dim() || out.size(-2) != M || out.size(-1) != N ||
      out.sizes().slice(0, out.dim() - 2) != a.sizes().slice(0, a.dim() - 2))
    fail("dnnl_matmul: result has shape {}, the product of {} and {} needs another", shape(out), shape(a),
         shape(b));
  at::Tensor bias_c;
  if (bias.defined()) {
    if (bias.dim() != 1 || bias.size(0) != N || bias.scalar_type() != at::kFloat)
      fail("dnnl_matmul: bias of shape {} for {} columns", shape(bias), N);
    bias_c = bias.contiguous();
  }
  Key key{to_dims(a.sizes()), to_dims(a.strides()), to_dims(b.sizes()),      to_dims(b.strides()),
          to_dims(out.sizes()), to_dims(out.strides()), bias.defined(), accumulate, static_cast<float>(alpha),
          a.scalar_type() == at::kBFloat16};
  const Cached c = primitive_for(key);
  auto& engine = cpu_engine();
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl::memory(c.a, engine, a.data_ptr())},
      {DNNL_ARG_WEIGHTS, dnnl::memory(c.b, engine, b.data_ptr())},
      {DNNL_ARG_DST, dnnl::memory(c.c, engine, out.data_ptr())}};
  if (bias_c.defined()) args.emplace(DNNL_ARG_BIAS, dnnl::memory(c.bias, engine, bias_c.data_ptr()));
  thread_local dnnl::stream stream(engine);
  c.primitive.execute(stream, args);
  stream.wait();
}

at::Tensor dnnl_matmul(const at::Tensor& a, const at::Tensor& b, const at::Tensor& bias, double alpha) {
  std::vector<int64_t> shape(a.sizes().begin(), a.sizes().end());
  shape.back() = b.size(-1);
  at::Tensor out = at::empty(shape, a.options().dtype(at::kFloat));
  dnnl_matmul_into(a, b, out, bias, alpha);
  return out;
}

int64_t dnnl_primitives_built() { return built.load(); }

}  // namespace cotrain::nn::kernels
