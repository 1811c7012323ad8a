// llm.c-style golden comparison: every tensor against the reference twin's value,
// each with its own tolerance, reported as a table row by name.
#pragma once
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace cotrain::testing {

struct GoldenRow {
  std::string name;
  double max_abs_diff = 0;  // max |actual - expected|
  double scale = 0;         // max |expected|
  double tolerance = 0;     // rel * scale: what max_abs_diff may reach
  bool ok = false;
  std::string note;         // why it failed when not a numeric difference (shape, missing)
};

struct GoldenTable {
  std::vector<GoldenRow> rows;

  // Compares `actual` with `expected` (any float dtypes, compared in float64). Passes
  // when max |actual - expected| <= rel * max |expected|. An undefined `actual` (a
  // parameter that got no gradient) counts as zeros.
  const GoldenRow& compare(const std::string& name, const at::Tensor& actual, const at::Tensor& expected,
                           double rel);
  // Same with the scale given: for a tensor whose exact value is zero (the reference
  // holds only rounding noise), measured against a related tensor's magnitude.
  const GoldenRow& compare_scaled(const std::string& name, const at::Tensor& actual, const at::Tensor& expected,
                                  double rel, double scale);

  int failures() const;
  const GoldenRow* find(const std::string& name) const;
  // Fixed-width table: name, max abs diff, max |expected|, tolerance, OK/FAIL.
  std::string format(bool failures_only) const;
};

}  // namespace cotrain::testing
