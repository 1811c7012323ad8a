#include "cotrain/dist/gather.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include "cotrain/dist/process_group.h"

namespace cotrain::dist {
namespace {

std::vector<int64_t> gather_counts(int64_t n) {
  at::Tensor counts = world().all_gather(at::full({1}, n, at::kLong));
  return std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
}

struct AllGatherRows : public torch::autograd::Function<AllGatherRows> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& local,
                            const std::vector<int64_t>& counts) {
    World& w = world();
    const int64_t longest = *std::max_element(counts.begin(), counts.end());
    at::Tensor padded = local.contiguous();
    if (local.size(0) < longest) {
      std::vector<int64_t> shape = local.sizes().vec();
      shape[0] = longest - local.size(0);
      padded = at::cat({padded, at::zeros(shape, local.options())}, 0);
    }
    at::Tensor gathered = w.all_gather(padded);
    std::vector<at::Tensor> rows;
    int64_t offset = 0;
    for (int64_t r = 0; r < w.size(); ++r) {
      rows.push_back(gathered.narrow(0, r * longest, counts[static_cast<size_t>(r)]));
      if (r < w.rank()) offset += counts[static_cast<size_t>(r)];
    }
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["count"] = local.size(0);
    return at::cat(rows, 0);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    // Every rank's loss may depend on every row: the gradient of this rank's rows is
    // the sum over ranks of their gradient's slice for these rows.
    at::Tensor total = grads[0].contiguous().clone();
    world().all_reduce_sum(total);
    const int64_t offset = ctx->saved_data["offset"].toInt(), count = ctx->saved_data["count"].toInt();
    return {total.narrow(0, offset, count), at::Tensor()};
  }
};

}  // namespace

GatheredRows all_gather_rows(const at::Tensor& local) {
  GatheredRows out;
  if (!world().distributed()) {
    out.all = local;
    out.counts = {local.size(0)};
    return out;
  }
  out.counts = gather_counts(local.size(0));
  for (int64_t r = 0; r < world().rank(); ++r) out.offset += out.counts[static_cast<size_t>(r)];
  out.all = AllGatherRows::apply(local, out.counts);
  return out;
}

}  // namespace cotrain::dist
