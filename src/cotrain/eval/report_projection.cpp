#include "cotrain/eval/report_projection.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "cotrain/core/error.h"
#include "cotrain/eval/report_svg.h"

namespace cotrain::eval {

void symmetric_eigen(std::vector<double> a, size_t d, std::vector<double>& values,
                     std::vector<std::vector<double>>& vectors) {
  if (a.size() != d * d) fail("symmetric_eigen: {} entries for a {} x {} matrix", a.size(), d, d);
  std::vector<double> v(d * d, 0.0);
  for (size_t i = 0; i < d; ++i) v[i * d + i] = 1.0;
  auto A = [&](size_t r, size_t c) -> double& { return a[r * d + c]; };
  double scale = 0;
  for (double x : a) scale += x * x;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0;
    for (size_t p = 0; p < d; ++p)
      for (size_t q = p + 1; q < d; ++q) off += A(p, q) * A(p, q);
    // Off-diagonal mass negligible against the matrix: the diagonal holds the eigenvalues.
    if (off <= 1e-30 * scale || off == 0) break;
    for (size_t p = 0; p < d; ++p)
      for (size_t q = p + 1; q < d; ++q) {
        const double apq = A(p, q);
        if (apq == 0) continue;
        // The rotation J (J_pp = J_qq = c, J_pq = s, J_qp = -s) that zeroes A'_pq in
        // J^T A J: t = tan(angle) is the smaller root of t^2 + 2 theta t - 1 = 0.
        const double theta = (A(q, q) - A(p, p)) / (2 * apq);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < d; ++k) {  // columns p, q: A J
          const double akp = A(k, p), akq = A(k, q);
          A(k, p) = c * akp - s * akq;
          A(k, q) = s * akp + c * akq;
        }
        for (size_t k = 0; k < d; ++k) {  // rows p, q: J^T (A J)
          const double apk = A(p, k), aqk = A(q, k);
          A(p, k) = c * apk - s * aqk;
          A(q, k) = s * apk + c * aqk;
        }
        for (size_t k = 0; k < d; ++k) {  // eigenvectors: the columns of V J
          const double vkp = v[k * d + p], vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  std::vector<size_t> order(d);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return A(i, i) > A(j, j); });
  values.clear();
  vectors.assign(d, std::vector<double>(d));
  for (size_t r = 0; r < d; ++r) {
    values.push_back(A(order[r], order[r]));
    for (size_t k = 0; k < d; ++k) vectors[r][k] = v[k * d + order[r]];
  }
}

Projection2D pca_2d(const std::vector<std::vector<double>>& rows) {
  const size_t n = rows.size();
  if (n < 2) fail("pca: {} point(s); a projection needs at least 2", n);
  const size_t d = rows[0].size();
  if (d == 0) fail("pca: points of dimension 0");
  std::vector<double> mean(d, 0.0);
  for (size_t i = 0; i < n; ++i) {
    if (rows[i].size() != d) fail("pca: point {} has {} values, point 0 has {}", i, rows[i].size(), d);
    for (size_t k = 0; k < d; ++k) {
      if (!std::isfinite(rows[i][k])) fail("pca: point {} value {} is not finite", i, k);
      mean[k] += rows[i][k];
    }
  }
  for (double& m : mean) m /= static_cast<double>(n);
  std::vector<std::vector<double>> x(n, std::vector<double>(d));
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < d; ++k) x[i][k] = rows[i][k] - mean[k];

  Projection2D out;
  std::vector<double> values;
  std::vector<std::vector<double>> vectors;
  const double denom = static_cast<double>(n - 1);
  if (d <= n) {
    // Covariance (d x d); its eigenvectors are the axes.
    std::vector<double> cov(d * d, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t p = 0; p < d; ++p)
        for (size_t q = p; q < d; ++q) cov[p * d + q] += x[i][p] * x[i][q];
    for (size_t p = 0; p < d; ++p)
      for (size_t q = p; q < d; ++q) cov[q * d + p] = cov[p * d + q] /= denom;
    symmetric_eigen(std::move(cov), d, values, vectors);
    for (int a = 0; a < 2; ++a) out.axes[a] = a < static_cast<int>(d) ? vectors[a] : std::vector<double>(d, 0.0);
  } else {
    // Fewer points than dimensions: the Gram matrix X X^T / (n-1) (n x n) has the same
    // non-zero eigenvalues; axis = X^T u / |X^T u|.
    std::vector<double> gram(n * n, 0.0);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i; j < n; ++j) {
        double s = 0;
        for (size_t k = 0; k < d; ++k) s += x[i][k] * x[j][k];
        gram[i * n + j] = gram[j * n + i] = s / denom;
      }
    symmetric_eigen(std::move(gram), n, values, vectors);
    for (int a = 0; a < 2; ++a) {
      std::vector<double> axis(d, 0.0);
      double norm = 0;
      for (size_t k = 0; k < d; ++k) {
        for (size_t i = 0; i < n; ++i) axis[k] += x[i][k] * vectors[a][i];
        norm += axis[k] * axis[k];
      }
      norm = std::sqrt(norm);
      for (double& e : axis) e = norm > 0 ? e / norm : 0.0;
      out.axes[a] = axis;
    }
  }
  double total = 0;
  for (size_t k = 0; k < d; ++k) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += x[i][k] * x[i][k];
    total += s / denom;
  }
  out.total_variance = total;
  // An axis of (numerically) zero variance carries only rounding noise: drop it.
  for (int a = 0; a < 2; ++a) {
    const double var = a < static_cast<int>(values.size()) ? values[a] : 0.0;
    if (!(var > 1e-12 * std::max(total, 1e-300))) std::fill(out.axes[a].begin(), out.axes[a].end(), 0.0);
    // Sign: the largest-magnitude entry positive.
    auto& axis = out.axes[a];
    size_t big = 0;
    for (size_t k = 0; k < d; ++k)
      if (std::abs(axis[k]) > std::abs(axis[big])) big = k;
    if (axis[big] < 0)
      for (double& e : axis) e = -e;
  }
  out.points.resize(n);
  for (size_t i = 0; i < n; ++i)
    for (int a = 0; a < 2; ++a) {
      double s = 0;
      for (size_t k = 0; k < d; ++k) s += x[i][k] * out.axes[a][k];
      out.points[i][a] = s;
    }
  // Variances from the coordinates themselves (equal to the eigenvalues up to rounding).
  for (int a = 0; a < 2; ++a) {
    double s = 0;
    for (const auto& p : out.points) s += p[a] * p[a];
    out.axis_variance[a] = s / denom;
  }
  return out;
}

std::string projection_svg(const ProjectionPlot& plot, const Projection2D& projection) {
  const size_t ni = plot.images.size(), nt = plot.texts.size();
  if (projection.points.size() != ni + nt)
    fail("projection plot: {} points for {} images + {} texts", projection.points.size(), ni, nt);
  const int W = plot.width, H = plot.height;
  const double left = 46, right = W - 12.0, top = 44, bottom = H - 40.0;
  double x_lo = 0, x_hi = 0, y_lo = 0, y_hi = 0;
  for (const auto& p : projection.points) {
    x_lo = std::min(x_lo, p[0]);
    x_hi = std::max(x_hi, p[0]);
    y_lo = std::min(y_lo, p[1]);
    y_hi = std::max(y_hi, p[1]);
  }
  // One scale for both axes, the data centred in the plot area.
  const double span_x = std::max(x_hi - x_lo, 1e-12), span_y = std::max(y_hi - y_lo, 1e-12);
  const double scale = 0.94 * std::min((right - left) / span_x, (bottom - top) / span_y);
  const double cx = (left + right) / 2, cy = (top + bottom) / 2, mx = (x_lo + x_hi) / 2, my = (y_lo + y_hi) / 2;
  auto px = [&](double x) { return cx + (x - mx) * scale; };
  auto py = [&](double y) { return cy - (y - my) * scale; };
  auto share = [&](int a) {
    return projection.total_variance > 0 ? 100.0 * projection.axis_variance[a] / projection.total_variance : 0.0;
  };
  // Colours outside the run palette (report_svg.cpp), so the two never read as runs.
  const std::string image_color = "#1f77b4", text_color = "#d62728";

  std::string svg = svg_chart_open("chart projection", W, H, plot.title, left, top, right, bottom);
  // Axes through the centroid (the origin of the centred coordinates).
  svg += fmt::format("<line class=\"grid\" x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\"/>\n", left, py(0),
                     right, py(0));
  svg += fmt::format("<line class=\"grid\" x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\"/>\n", px(0), top,
                     px(0), bottom);
  svg += fmt::format("<text class=\"axis-label\" x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\">PC1 ({:.1f}% of variance)</text>\n",
                     (left + right) / 2, H - 22, share(0));
  svg += fmt::format("<text class=\"axis-label\" x=\"14\" y=\"{:.2f}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.2f})\">"
                     "PC2 ({:.1f}%)</text>\n",
                     (top + bottom) / 2, (top + bottom) / 2, share(1));
  const size_t pairs = std::min(ni, nt);
  for (size_t k = 0; k < pairs; ++k) {
    const auto &a = projection.points[k], &b = projection.points[ni + k];
    svg += fmt::format("<line class=\"pair-link\" data-pair=\"{}\" x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\" "
                       "stroke=\"#bbb\" stroke-width=\"0.8\"/>\n",
                       k, px(a[0]), py(a[1]), px(b[0]), py(b[1]));
  }
  for (size_t k = 0; k < ni; ++k) {
    const auto& p = projection.points[k];
    svg += fmt::format("<circle class=\"image-point\" data-pair=\"{}\" cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3.2\" fill=\"{}\">"
                       "<title>image: {}</title></circle>\n",
                       k, px(p[0]), py(p[1]), image_color, xml_escape(plot.images[k]));
  }
  for (size_t k = 0; k < nt; ++k) {
    const auto& p = projection.points[ni + k];
    svg += fmt::format("<rect class=\"text-point\" data-pair=\"{}\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"6\" height=\"6\" "
                       "fill=\"{}\"><title>text: {}</title></rect>\n",
                       k, px(p[0]) - 3, py(p[1]) - 3, text_color, xml_escape(plot.texts[k]));
  }
  svg += fmt::format("<circle cx=\"{:.2f}\" cy=\"31\" r=\"4\" fill=\"{}\"/><text class=\"legend\" x=\"{:.2f}\" y=\"35\">"
                     "image</text>\n",
                     left + 5, image_color, left + 13);
  svg += fmt::format("<rect x=\"{:.2f}\" y=\"28\" width=\"7\" height=\"7\" fill=\"{}\"/><text class=\"legend\" x=\"{:.2f}\" "
                     "y=\"35\">caption</text>\n",
                     left + 60, text_color, left + 71);
  svg += fmt::format("<line x1=\"{:.2f}\" y1=\"31\" x2=\"{:.2f}\" y2=\"31\" stroke=\"#bbb\"/><text class=\"legend\" "
                     "x=\"{:.2f}\" y=\"35\">image and its caption</text>\n",
                     left + 130, left + 148, left + 152);
  svg += "</svg>\n";
  return svg;
}

}  // namespace cotrain::eval
