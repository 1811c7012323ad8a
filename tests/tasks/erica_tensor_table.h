// Per-tensor comparison table for the ERICA golden tests (same idea as
// tests/models/golden_compare.h, kept here header-only so that test_tasks does not
// depend on which other task tests compile that file in).
#pragma once
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <limits>
#include <string>
#include <vector>

namespace cotrain::testing::erica {

struct Row {
  std::string name;
  double max_abs_diff = 0, scale = 0, tolerance = 0;
  bool ok = false;
  std::string note;
};

struct Table {
  std::vector<Row> rows;

  // Passes when max |actual - expected| <= rel * scale, scale = max |expected|
  // unless given. An undefined `actual` (no gradient) counts as zeros.
  const Row& compare(const std::string& name, const at::Tensor& actual, const at::Tensor& expected, double rel,
                     double scale = -1.0) {
    Row row;
    row.name = name;
    at::Tensor e = expected.detach().to(at::kCPU, at::kDouble);
    at::Tensor a = actual.defined() ? actual.detach().to(at::kCPU, at::kDouble) : at::zeros_like(e);
    if (!actual.defined()) row.note = "no value (taken as zeros)";
    row.scale = scale >= 0 ? scale : (e.numel() ? e.abs().max().item<double>() : 0.0);
    row.tolerance = rel * row.scale;
    if (a.sizes() != e.sizes()) {
      row.note = "shape differs";
      row.max_abs_diff = std::numeric_limits<double>::infinity();
    } else {
      row.max_abs_diff = e.numel() ? (a - e).abs().max().item<double>() : 0.0;
      row.ok = row.max_abs_diff <= row.tolerance;  // NaN fails
    }
    rows.push_back(row);
    return rows.back();
  }
  int failures() const {
    int n = 0;
    for (const auto& r : rows) n += r.ok ? 0 : 1;
    return n;
  }
  const Row* find(const std::string& name) const {
    for (const auto& r : rows)
      if (r.name == name) return &r;
    return nullptr;
  }
  // Largest max_abs_diff / scale over the rows whose name starts with `prefix`.
  double worst_relative(const std::string& prefix) const {
    double worst = 0;
    for (const auto& r : rows)
      if (r.name.rfind(prefix, 0) == 0 && r.scale > 0) worst = std::max(worst, r.max_abs_diff / r.scale);
    return worst;
  }
  std::string format(bool failures_only) const {
    std::string out = fmt::format("{:<62} {:>11} {:>11} {:>11}  {}\n", "tensor", "max|diff|", "max|ref|", "tolerance",
                                  "result");
    for (const auto& r : rows) {
      if (failures_only && r.ok) continue;
      out += fmt::format("{:<62} {:>11.3e} {:>11.3e} {:>11.3e}  {}{}\n", r.name, r.max_abs_diff, r.scale, r.tolerance,
                         r.ok ? "OK" : "FAIL", r.note.empty() ? "" : " (" + r.note + ")");
    }
    return out;
  }
};

}  // namespace cotrain::testing::erica
