#include "cotrain/models/weights.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cotrain/core/error.h"

namespace cotrain::models {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::vector<int64_t> shape_of(const at::Tensor& t) { return t.sizes().vec(); }

}  // namespace

std::string WeightLoadReport::describe() const {
  std::vector<std::string> parts;
  if (!missing.empty()) parts.push_back(fmt::format("missing: {}", fmt::join(missing, ", ")));
  if (!unexpected.empty()) parts.push_back(fmt::format("unexpected: {}", fmt::join(unexpected, ", ")));
  for (const auto& m : mismatched) {
    if (m.why == "shape")
      parts.push_back(fmt::format("shape of {}: expected {}, found {}", m.name, shape_text(m.expected),
                                  shape_text(m.found)));
    else
      parts.push_back(fmt::format("{}: {}", m.name, m.why));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

WeightLoadReport load_weights(torch::nn::Module& module, const io::TensorMap& tensors, LoadMode mode,
                              const std::string& source) {
  WeightLoadReport report;
  auto params = module.named_parameters(/*recurse=*/true);
  std::set<std::string> known;
  // Pass 1: match names and check shapes and dtypes, touching nothing, so that a
  // strict load that fails leaves the module as it was.
  std::vector<std::pair<at::Tensor, const at::Tensor*>> copies;
  for (auto& item : params) {
    const std::string& name = item.key();
    known.insert(name);
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      report.missing.push_back(name);
      continue;
    }
    const at::Tensor& src = it->second;
    const at::Tensor& dst = item.value();
    if (!src.defined()) {
      report.mismatched.push_back({name, shape_of(dst), {}, "tensor is undefined"});
    } else if (src.sizes() != dst.sizes()) {
      report.mismatched.push_back({name, shape_of(dst), shape_of(src), "shape"});
    } else if (at::isFloatingType(dst.scalar_type()) && !at::isFloatingType(src.scalar_type())) {
      report.mismatched.push_back({name, shape_of(dst), shape_of(src),
                                   fmt::format("dtype {} is not floating point", c10::toString(src.scalar_type()))});
    } else {
      copies.emplace_back(dst, &src);
      report.loaded.push_back(name);
    }
  }
  for (const auto& [name, tensor] : tensors)
    if (!known.count(name)) report.unexpected.push_back(name);

  std::sort(report.loaded.begin(), report.loaded.end());
  std::sort(report.missing.begin(), report.missing.end());
  std::sort(report.mismatched.begin(), report.mismatched.end(),
            [](const WeightMismatch& a, const WeightMismatch& b) { return a.name < b.name; });
  // `unexpected` is already sorted: TensorMap is an ordered map.

  if (mode == LoadMode::strict && !report.complete())
    fail("{}: weights do not fit the model: {}", source, report.describe());

  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(*src);
  return report;
}

io::TensorMap weights_of(const torch::nn::Module& module) {
  io::TensorMap out;
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    out[item.key()] = item.value().detach().to(at::kCPU).contiguous().clone();
  return out;
}

}  // namespace cotrain::models
