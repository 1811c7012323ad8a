#include "cotrain/dist/grad_buckets.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <mutex>

#include "cotrain/core/error.h"
#include "cotrain/dist/process_group.h"

namespace cotrain::dist {

struct GradientBuckets::State {
  struct Bucket {
    std::vector<size_t> members;  // indices into params
    int64_t numel = 0;
    size_t waiting = 0;  // members not yet ready in this backward
    at::Tensor flat;
    Pending pending;
    bool started = false;
  };
  std::vector<at::Tensor> params;
  std::vector<size_t> bucket_of;
  std::vector<bool> ready;
  std::vector<Bucket> buckets;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // kept alive for the hooks
  size_t next_to_start = 0;
  int64_t started_in_backward = 0;
  bool armed = false;     // the current backward is the reducing one
  bool finishing = false;
  bool alive = true;
  std::mutex mutex;

  void start(size_t b) {
    Bucket& bucket = buckets[b];
    at::NoGradGuard no_grad;
    bucket.flat = at::zeros({bucket.numel}, params[bucket.members.front()].options().requires_grad(false));
    int64_t offset = 0;
    for (size_t i : bucket.members) {
      const at::Tensor& grad = params[i].grad();
      const int64_t n = params[i].numel();
      if (grad.defined()) bucket.flat.narrow(0, offset, n).copy_(grad.reshape({-1}));
      offset += n;
    }
    bucket.pending = world().reduce_gradients_async(bucket.flat);
    bucket.started = true;
    if (!finishing) ++started_in_backward;
  }

  void start_ready_in_order() {
    while (next_to_start < buckets.size() && buckets[next_to_start].waiting == 0) start(next_to_start++);
  }

  void mark_ready(size_t i) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!alive || !armed || ready[i]) return;
    ready[i] = true;
    --buckets[bucket_of[i]].waiting;
    start_ready_in_order();
  }
};

namespace {

struct ReadyHook : torch::autograd::FunctionPostHook {
  ReadyHook(std::shared_ptr<GradientBuckets::State> state, size_t index) : state(std::move(state)), index(index) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    if (auto s = state.lock()) s->mark_ready(index);
    return outputs;
  }
  std::weak_ptr<GradientBuckets::State> state;
  size_t index;
};

}  // namespace

GradientBuckets::GradientBuckets(const std::vector<at::Tensor>& parameters, int64_t bucket_bytes)
    : state_(std::make_shared<State>()) {
  State& s = *state_;
  for (const auto& p : parameters)
    if (p.requires_grad()) s.params.push_back(p);
  s.bucket_of.resize(s.params.size());
  s.ready.assign(s.params.size(), false);
  // Reverse order; a new bucket when the size is reached or the dtype changes.
  int64_t bytes = 0;
  for (size_t k = s.params.size(); k-- > 0;) {
    const at::Tensor& p = s.params[k];
    const bool fresh = s.buckets.empty() || bytes >= bucket_bytes ||
                       p.scalar_type() != s.params[s.buckets.back().members.front()].scalar_type() ||
                       p.device() != s.params[s.buckets.back().members.front()].device();
    if (fresh) {
      s.buckets.emplace_back();
      bytes = 0;
    }
    s.buckets.back().members.push_back(k);
    s.buckets.back().numel += p.numel();
    bytes += static_cast<int64_t>(p.nbytes());
    s.bucket_of[k] = s.buckets.size() - 1;
  }
  if (!world().distributed()) return;  // no hooks: nothing to reduce
  for (size_t k = 0; k < s.params.size(); ++k) {
    auto accumulator = torch::autograd::impl::grad_accumulator(s.params[k]);
    if (!accumulator) fail("gradient buckets: parameter {} is not a leaf tensor", k);
    accumulator->add_post_hook(std::make_unique<ReadyHook>(state_, k));
    s.accumulators.push_back(std::move(accumulator));
  }
}

GradientBuckets::~GradientBuckets() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->alive = false;
}

void GradientBuckets::prepare(bool reduce) {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  s.armed = reduce && world().distributed();
  s.finishing = false;
  s.next_to_start = 0;
  s.started_in_backward = 0;
  std::fill(s.ready.begin(), s.ready.end(), false);
  for (auto& bucket : s.buckets) {
    bucket.waiting = bucket.members.size();
    bucket.started = false;
    bucket.flat = at::Tensor();
  }
}

void GradientBuckets::finish() {
  State& s = *state_;
  if (!world().distributed()) return;
  std::unique_lock<std::mutex> lock(s.mutex);
  if (!s.armed) fail("gradient buckets: finish() without prepare(true)");
  s.finishing = true;
  while (s.next_to_start < s.buckets.size()) s.start(s.next_to_start++);
  s.armed = false;
  // Which parameters have a gradient on some rank: those keep (or get) one.
  at::Tensor has_grad = at::zeros({static_cast<int64_t>(s.params.size())}, at::kFloat);
  for (size_t k = 0; k < s.params.size(); ++k)
    if (s.params[k].grad().defined()) has_grad[static_cast<int64_t>(k)] = 1.0f;
  Pending used = world().reduce_gradients_async(has_grad);
  lock.unlock();
  used.wait();
  at::NoGradGuard no_grad;
  const float* any = has_grad.data_ptr<float>();
  for (auto& bucket : s.buckets) {
    bucket.pending.wait();
    int64_t offset = 0;
    for (size_t i : bucket.members) {
      at::Tensor& p = s.params[i];
      const int64_t n = p.numel();
      at::Tensor sum = bucket.flat.narrow(0, offset, n).view(p.sizes());
      offset += n;
      if (p.grad().defined())
        p.mutable_grad().copy_(sum);
      else if (any[i] > 0)
        p.mutable_grad() = sum.clone();
    }
    bucket.flat = at::Tensor();
  }
}

int64_t GradientBuckets::bucket_count() const { return static_cast<int64_t>(state_->buckets.size()); }

int64_t GradientBuckets::started_during_backward() const { return state_->started_in_backward; }

}  // namespace cotrain::dist
