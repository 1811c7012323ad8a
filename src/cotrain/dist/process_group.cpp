#include "cotrain/dist/process_group.h"

// Debian's LibTorch is built with Gloo, but its headers keep ProcessGroupGloo behind
// this macro (PyTorch's own build defines it).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>

#include "cotrain/core/error.h"
#include "cotrain/core/log.h"

namespace cotrain::dist {
namespace {

std::string short_what(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

}  // namespace

struct World::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> gloo;        // CPU tensors
  c10::intrusive_ptr<c10d::ProcessGroup> gloo_grads;  // CPU tensors, gradient buckets only
#if defined(USE_C10D_NCCL)
  c10::intrusive_ptr<c10d::ProcessGroup> nccl;        // CUDA tensors
  c10::intrusive_ptr<c10d::ProcessGroup> nccl_grads;  // CUDA tensors, gradient buckets only
#endif
  std::string where;  // "rank R of W at ADDR:PORT", for errors
  std::chrono::milliseconds timeout{0};

  c10d::ProcessGroup& group_for(const at::Tensor& t, bool gradients = false) {
#if defined(USE_C10D_NCCL)
    if (t.is_cuda()) return gradients ? *nccl_grads : *nccl;
#else
    if (t.is_cuda())
      fail("distributed training on CUDA tensors needs a LibTorch built with NCCL (this one has only Gloo)");
#endif
    return gradients ? *gloo_grads : *gloo;
  }

  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
    try {
      work->wait(timeout);
    } catch (const std::exception& e) {
      fail("distributed {} failed ({}; a peer process probably stopped): {}", what, where, short_what(e));
    }
  }
};

World& World::get() {
  static World instance;
  return instance;
}

World::World() = default;
World::~World() = default;

std::string World::backend() const {
  if (!impl_) return "none";
#if defined(USE_C10D_NCCL)
  return "gloo+nccl";
#else
  return "gloo";
#endif
}

void World::connect(const Rendezvous& r, std::chrono::milliseconds timeout) {
  if (impl_) fail("the process group is already connected");
  if (r.world_size <= 1) return;
  auto impl = std::make_unique<Impl>();
  impl->timeout = timeout;
  impl->where = fmt::format("rank {} of {} at {}:{}", r.rank, r.world_size, r.master_addr, r.master_port);
  const double seconds = std::chrono::duration<double>(timeout).count();
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(r.master_port);
    options.isServer = r.rank == 0;
    options.numWorkers = static_cast<size_t>(r.world_size);
    options.waitWorkers = true;
    options.timeout = timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(r.master_addr, options);
  } catch (const std::exception& e) {
    fail("rendezvous failed ({}, waited up to {:.0f} s for the other processes): {}", impl->where, seconds,
         short_what(e));
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // GLOO_SOCKET_IFNAME picks the network interface (as in PyTorch); a one-machine
    // run talks over loopback; otherwise the interface this host's name resolves to.
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (r.master_addr == "127.0.0.1" || r.master_addr == "localhost")
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 2;
    auto group = [&](const char* prefix) -> c10::intrusive_ptr<c10d::ProcessGroup> {
      return c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>(prefix, impl->store),
                                                         static_cast<int>(r.rank), static_cast<int>(r.world_size),
                                                         options);
    };
    impl->gloo = group("gloo");
    impl->gloo_grads = group("gloo-grads");
#if defined(USE_C10D_NCCL)
    auto nccl_group = [&](const char* prefix) -> c10::intrusive_ptr<c10d::ProcessGroup> {
      return c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>(prefix, impl->store),
                                                         static_cast<int>(r.rank), static_cast<int>(r.world_size));
    };
    impl->nccl = nccl_group("nccl");
    impl->nccl_grads = nccl_group("nccl-grads");
#endif
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("rendezvous failed ({}, connecting the Gloo process group, waited up to {:.0f} s for the other "
         "processes): {}", impl->where, seconds, short_what(e));
  }
  impl_ = std::move(impl);
  rank_ = r.rank;
  size_ = r.world_size;
  log::info("process group: {} ({}, {})", impl_->where, backend(), r.source);
}

void World::disconnect() {
  impl_.reset();
  rank_ = 0;
  size_ = 1;
}

void World::all_reduce_sum(at::Tensor& tensor) { all_reduce_sum_async(tensor).wait(); }

Pending World::all_reduce_sum_async(at::Tensor tensor) {
  if (!impl_) return Pending();
  std::vector<at::Tensor> tensors{std::move(tensor)};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  auto work = impl_->group_for(tensors[0]).allreduce(tensors, options);
  Impl* impl = impl_.get();
  return Pending([impl, work] { impl->wait(work, "all-reduce"); });
}

Pending World::reduce_gradients_async(at::Tensor tensor) {
  if (!impl_) return Pending();
  std::vector<at::Tensor> tensors{std::move(tensor)};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  auto work = impl_->group_for(tensors[0], true).allreduce(tensors, options);
  Impl* impl = impl_.get();
  return Pending([impl, work] { impl->wait(work, "gradient all-reduce"); });
}

void World::broadcast(at::Tensor& tensor, int64_t root) {
  if (!impl_) return;
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  impl_->wait(impl_->group_for(tensor).broadcast(tensors, options), "broadcast");
}

at::Tensor World::all_gather(const at::Tensor& tensor) {
  if (!impl_) return tensor;
  at::Tensor input = tensor.contiguous();
  std::vector<at::Tensor> inputs{input};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int64_t r = 0; r < size_; ++r) outputs[0].push_back(at::empty_like(input));
  impl_->wait(impl_->group_for(input).allgather(outputs, inputs), "all-gather");
  return at::cat(outputs[0], 0);
}

void World::barrier() {
  if (!impl_) return;
  impl_->wait(impl_->gloo->barrier(), "barrier");
}

}  // namespace cotrain::dist
