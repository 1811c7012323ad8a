#include "golden_compare.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <limits>

namespace cotrain::testing {

const GoldenRow& GoldenTable::compare(const std::string& name, const at::Tensor& actual, const at::Tensor& expected,
                                      double rel) {
  return compare_scaled(name, actual, expected, rel, -1.0);
}

const GoldenRow& GoldenTable::compare_scaled(const std::string& name, const at::Tensor& actual,
                                             const at::Tensor& expected, double rel, double scale) {
  GoldenRow row;
  row.name = name;
  at::Tensor e = expected.detach().to(at::kCPU, at::kDouble);
  at::Tensor a = actual.defined() ? actual.detach().to(at::kCPU, at::kDouble) : at::zeros_like(e);
  if (!actual.defined()) row.note = "no value (taken as zeros)";
  row.scale = scale >= 0 ? scale : (e.numel() ? e.abs().max().item<double>() : 0.0);
  row.tolerance = rel * row.scale;
  if (a.sizes() != e.sizes()) {
    row.note = fmt::format("shape {} vs expected {}", fmt::streamed(a.sizes()), fmt::streamed(e.sizes()));
    row.max_abs_diff = std::numeric_limits<double>::infinity();
  } else {
    row.max_abs_diff = e.numel() ? (a - e).abs().max().item<double>() : 0.0;
    // NaN anywhere makes max NaN, and NaN <= tolerance is false: a failure.
    row.ok = row.max_abs_diff <= row.tolerance;
  }
  rows.push_back(row);
  return rows.back();
}

int GoldenTable::failures() const {
  int n = 0;
  for (const auto& r : rows) n += r.ok ? 0 : 1;
  return n;
}

const GoldenRow* GoldenTable::find(const std::string& name) const {
  for (const auto& r : rows)
    if (r.name == name) return &r;
  return nullptr;
}

std::string GoldenTable::format(bool failures_only) const {
  std::string out = fmt::format("{:<62} {:>11} {:>11} {:>11}  {}\n", "tensor", "max|diff|", "max|ref|", "tolerance",
                                "result");
  for (const auto& r : rows) {
    if (failures_only && r.ok) continue;
    out += fmt::format("{:<62} {:>11.3e} {:>11.3e} {:>11.3e}  {}{}\n", r.name, r.max_abs_diff, r.scale, r.tolerance,
                       r.ok ? "OK" : "FAIL", r.note.empty() ? "" : " (" + r.note + ")");
  }
  return out;
}

}  // namespace cotrain::testing
