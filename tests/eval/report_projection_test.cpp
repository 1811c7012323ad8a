// The report's embedding projection (report_projection.h): PCA of points built on
// known orthonormal axes must give those axes and coordinates back exactly; random
// data must agree with an SVD-based NumPy reference (tests/reference/pca_ref.py) in
// both code paths (covariance when n >= d, Gram matrix when n < d); the SVG scatter
// must draw the projected points with one scale for both axes.
#include "cotrain/eval/report_projection.h"

#include <cmath>
#include <random>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "support/support.h"

namespace ev = cotrain::eval;

namespace {

// Compares our projection with the reference's, each axis up to its sign.
void expect_matches_reference(const std::vector<std::vector<double>>& rows, const std::string& name) {
  const std::string file = cotrain::testing::scratch_dir("pca-" + name) + "/points.json";
  cotrain::testing::write_file(file, nlohmann::json{{"rows", rows}}.dump());
  const nlohmann::json ref = nlohmann::json::parse(cotrain::testing::run_reference("pca_ref.py", {file}));
  const ev::Projection2D p = ev::pca_2d(rows);
  const double scale = std::sqrt(ref["total_variance"].get<double>());
  EXPECT_NEAR(p.total_variance, ref["total_variance"].get<double>(), 1e-10 * scale * scale) << name;
  for (int a = 0; a < 2; ++a) {
    EXPECT_NEAR(p.axis_variance[a], ref["axis_variance"][a].get<double>(), 1e-9 * scale * scale) << name << " axis " << a;
    if (ref["axis_variance"][a].get<double>() < 1e-12 * scale * scale) {
      // No variance along this axis: its direction is arbitrary; ours is dropped.
      for (const auto& pt : p.points) EXPECT_EQ(pt[a], 0.0) << name;
      continue;
    }
    // The sign that lines our axis up with the reference's.
    double dot = 0;
    for (size_t k = 0; k < p.axes[a].size(); ++k) dot += p.axes[a][k] * ref["axes"][a][k].get<double>();
    EXPECT_NEAR(std::abs(dot), 1.0, 1e-9) << name << " axis " << a;
    const double sign = dot < 0 ? -1.0 : 1.0;
    for (size_t i = 0; i < rows.size(); ++i)
      EXPECT_NEAR(p.points[i][a], sign * ref["points"][i][a].get<double>(), 1e-9 * scale) << name << " point " << i;
  }
}

std::vector<std::vector<double>> random_rows(size_t n, size_t d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<std::vector<double>> rows(n, std::vector<double>(d));
  // Unequal spreads per dimension, so that the leading axes are well separated.
  for (auto& r : rows)
    for (size_t k = 0; k < d; ++k) r[k] = normal(rng) * (1.0 + 3.0 / (1.0 + static_cast<double>(k))) + 0.5 * k;
  return rows;
}

}  // namespace

TEST(ReportProjection, PointsOnTwoKnownAxesComeBackExactly) {
  // centre + a_i u + b_i v with u, v orthonormal; a and b centred and uncorrelated,
  // var(a) = 10 > var(b) = 1, so PC1 = u, PC2 = v (up to sign) and the coordinates
  // are a and b.
  const double u[3] = {2 / 7.0, 3 / 7.0, 6 / 7.0}, v[3] = {3 / 7.0, -6 / 7.0, 2 / 7.0}, c[3] = {5, -1, 2};
  const double a[5] = {-4, -2, 0, 2, 4}, b[5] = {1, -1, 0, -1, 1};
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < 5; ++i) rows.push_back({c[0] + a[i] * u[0] + b[i] * v[0], c[1] + a[i] * u[1] + b[i] * v[1],
                                              c[2] + a[i] * u[2] + b[i] * v[2]});
  const ev::Projection2D p = ev::pca_2d(rows);
  EXPECT_NEAR(p.axis_variance[0], 10.0, 1e-12);
  EXPECT_NEAR(p.axis_variance[1], 1.0, 1e-12);
  EXPECT_NEAR(p.total_variance, 11.0, 1e-12);
  // Sign convention: the largest-magnitude entry positive: u as it is (6/7), v
  // flipped (its largest entry is -6/7), so PC2 coordinates are -b.
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(p.axes[0][k], u[k], 1e-12);
    EXPECT_NEAR(p.axes[1][k], -v[k], 1e-12);
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_NEAR(p.points[i][0], a[i], 1e-12) << i;
    EXPECT_NEAR(p.points[i][1], -b[i], 1e-12) << i;
  }
}

TEST(ReportProjection, SymmetricEigenOfKnownMatrices) {
  std::vector<double> values;
  std::vector<std::vector<double>> vectors;
  ev::symmetric_eigen({2, 1, 1, 2}, 2, values, vectors);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_NEAR(values[0], 3, 1e-14);
  EXPECT_NEAR(values[1], 1, 1e-14);
  EXPECT_NEAR(std::abs(vectors[0][0]), std::sqrt(0.5), 1e-14);
  EXPECT_NEAR(vectors[0][0] * vectors[0][1], 0.5, 1e-14);  // (1, 1) / sqrt 2, either sign
  // A diagonal matrix is already diagonal: values sorted, vectors the unit axes.
  ev::symmetric_eigen({1, 0, 0, 0, 5, 0, 0, 0, 3}, 3, values, vectors);
  EXPECT_EQ(values, (std::vector<double>{5, 3, 1}));
  EXPECT_EQ(vectors[0], (std::vector<double>{0, 1, 0}));
}

TEST(ReportProjection, AgreesWithAnSvdReference) {
  expect_matches_reference(random_rows(40, 6, 3), "cov");     // n >= d: covariance
  expect_matches_reference(random_rows(7, 24, 11), "gram");   // n < d: Gram matrix
  expect_matches_reference(random_rows(2, 5, 5), "two");      // two points: one axis of variance 0
}

TEST(ReportProjection, DegenerateInputsAreErrorsOrZeroAxes) {
  EXPECT_THROW(ev::pca_2d({{1, 2}}), cotrain::Error);
  EXPECT_THROW(ev::pca_2d({{1, 2}, {1}}), cotrain::Error);
  EXPECT_THROW(ev::pca_2d({{1, 2}, {NAN, 1}}), cotrain::Error);
  EXPECT_THROW(ev::pca_2d({{}, {}}), cotrain::Error);
  // Collinear points: the second axis has no variance and all coordinates 0.
  const ev::Projection2D p = ev::pca_2d({{0, 0}, {1, 1}, {3, 3}});
  EXPECT_NEAR(p.axis_variance[1], 0, 1e-20);
  for (const auto& pt : p.points) EXPECT_EQ(pt[1], 0.0);
  // One-dimensional data.
  const ev::Projection2D q = ev::pca_2d({{1}, {3}});
  EXPECT_NEAR(q.points[0][0], -1, 1e-15);
  EXPECT_NEAR(q.points[1][0], 1, 1e-15);
  EXPECT_EQ(q.axis_variance[1], 0.0);
}

TEST(ReportProjection, ScatterDrawsEveryPointOnOneScale) {
  const std::vector<std::vector<double>> rows = random_rows(12, 4, 9);
  const ev::Projection2D p = ev::pca_2d(rows);
  ev::ProjectionPlot plot;
  plot.title = "t <&>";
  for (int i = 0; i < 6; ++i) {
    plot.images.push_back("img" + std::to_string(i));
    plot.texts.push_back("caption " + std::to_string(i));
  }
  const std::string svg = ev::projection_svg(plot, p);
  EXPECT_NE(svg.find("t &lt;&amp;&gt;"), std::string::npos);
  // Image points are circles at their centres, text points 6x6 squares around theirs.
  std::vector<std::array<double, 2>> px(12);
  std::regex circle("<circle class=\"image-point\" data-pair=\"(\\d+)\" cx=\"([-0-9.]+)\" cy=\"([-0-9.]+)\"");
  std::regex square("<rect class=\"text-point\" data-pair=\"(\\d+)\" x=\"([-0-9.]+)\" y=\"([-0-9.]+)\"");
  int circles = 0, squares = 0;
  for (std::sregex_iterator it(svg.begin(), svg.end(), circle), e; it != e; ++it, ++circles)
    px[std::stoul((*it)[1])] = {std::stod((*it)[2]), std::stod((*it)[3])};
  for (std::sregex_iterator it(svg.begin(), svg.end(), square), e; it != e; ++it, ++squares)
    px[6 + std::stoul((*it)[1])] = {std::stod((*it)[2]) + 3, std::stod((*it)[3]) + 3};
  ASSERT_EQ(circles, 6);
  ASSERT_EQ(squares, 6);
  // px = s * x + bx, py = -s * y + by with the same s for both axes.
  size_t lo = 0, hi = 0;
  for (size_t i = 0; i < 12; ++i) {
    if (p.points[i][0] < p.points[lo][0]) lo = i;
    if (p.points[i][0] > p.points[hi][0]) hi = i;
  }
  const double s = (px[hi][0] - px[lo][0]) / (p.points[hi][0] - p.points[lo][0]);
  EXPECT_GT(s, 0);
  const double bx = px[lo][0] - s * p.points[lo][0], by = px[lo][1] + s * p.points[lo][1];
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_NEAR(px[i][0], s * p.points[i][0] + bx, 0.011) << i;
    EXPECT_NEAR(px[i][1], -s * p.points[i][1] + by, 0.011 + 1e-6 * s) << i;
  }
  // Six pair links and the variance shares on the axis labels.
  size_t links = 0;
  for (size_t at = svg.find("class=\"pair-link\""); at != std::string::npos; at = svg.find("class=\"pair-link\"", at + 1))
    ++links;
  EXPECT_EQ(links, 6u);
  char share[64];
  std::snprintf(share, sizeof share, "PC1 (%.1f%% of variance)", 100 * p.axis_variance[0] / p.total_variance);
  EXPECT_NE(svg.find(share), std::string::npos) << share;
  // Wrong point count: an error, not a read past the end.
  plot.texts.pop_back();
  EXPECT_THROW(ev::projection_svg(plot, p), cotrain::Error);
}
