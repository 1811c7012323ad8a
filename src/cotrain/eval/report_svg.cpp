#include "cotrain/eval/report_svg.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace cotrain::eval {

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const std::string& series_color(size_t index) {
  // Tableau 10: distinguishable, and readable on white.
  static const std::vector<std::string> colors = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                                  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return colors[index % colors.size()];
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0.0, 1.0};
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    // A flat line: a small band around it, so that it sits mid-chart.
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (raw <= m * magnitude * (1 + 1e-9)) {
      step = m * magnitude;
      break;
    }
  const double first = std::floor(lo / step + 1e-9) * step;
  const double last = std::ceil(hi / step - 1e-9) * step;
  std::vector<double> ticks;
  for (int i = 0; first + i * step <= last + step * 1e-6 && i < 100; ++i) {
    double t = first + i * step;
    if (std::abs(t) < step * 1e-9) t = 0;  // no "-0" or 1e-17 labels
    ticks.push_back(t);
  }
  if (ticks.size() < 2) ticks.push_back(first + step);
  return ticks;
}

std::string format_tick(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e-3 && a < 1e6) {
    std::string s = fmt::format("{:.6f}", v);
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    // Keep at most 4 significant digits after the point for readability.
    return s.size() > 8 ? fmt::format("{:.4g}", v) : s;
  }
  return fmt::format("{:.2g}", v);
}

std::string svg_chart_open(const std::string& css_class, int width, int height, const std::string& title,
                           double left, double top, double right, double bottom) {
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"{}\">\n",
      css_class, width, height, width, height, xml_escape(title));
  svg += fmt::format("<text class=\"title\" x=\"{}\" y=\"16\" text-anchor=\"middle\">{}</text>\n", width / 2,
                     xml_escape(title));
  svg += fmt::format("<rect class=\"plot-area\" x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\"/>\n", left,
                     top, right - left, bottom - top);
  return svg;
}

std::string line_chart_svg(const ChartSpec& spec, const std::vector<ChartSeries>& series) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]);
      y_hi = std::max(y_hi, s.y[i]);
    }
  const int W = spec.width, H = spec.height;
  // Plot area: room on the left for y labels, at the top for title and legend.
  const bool legend = series.size() > 1;
  const double left = 58, right = W - 12.0, top = legend ? 44.0 : 28.0, bottom = H - 34.0;
  std::string svg = svg_chart_open("chart", W, H, spec.title, left, top, right, bottom);
  if (!std::isfinite(x_lo)) {
    svg += fmt::format("<text class=\"empty\" x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\">no data</text>\n</svg>\n",
                       (left + right) / 2, (top + bottom) / 2);
    return svg;
  }
  const std::vector<double> xt = nice_ticks(x_lo, x_hi, 5), yt = nice_ticks(y_lo, y_hi, 4);
  const double x0 = xt.front(), x1 = xt.back(), y0 = yt.front(), y1 = yt.back();
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (right - left); };
  auto py = [&](double y) { return bottom - (y - y0) / (y1 - y0) * (bottom - top); };

  for (double t : yt) {
    svg += fmt::format("<line class=\"grid\" x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\"/>", left, py(t), right,
                       py(t));
    svg += fmt::format("<text class=\"tick\" x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"end\">{}</text>\n", left - 4,
                       py(t) + 4, xml_escape(format_tick(t)));
  }
  for (double t : xt) {
    svg += fmt::format("<line class=\"grid\" x1=\"{:.2f}\" y1=\"{:.2f}\" x2=\"{:.2f}\" y2=\"{:.2f}\"/>", px(t), top, px(t),
                       bottom);
    svg += fmt::format("<text class=\"tick\" x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"middle\">{}</text>\n", px(t),
                       bottom + 14, xml_escape(format_tick(t)));
  }
  svg += fmt::format("<text class=\"axis-label\" x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     (left + right) / 2, H - 4, xml_escape(spec.x_label));

  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::vector<std::string> stretches(1);
    std::vector<size_t> counts(1, 0);
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        if (counts.back() > 0) {
          stretches.emplace_back();
          counts.push_back(0);
        }
        continue;
      }
      if (counts.back() > 0) stretches.back() += ' ';
      stretches.back() += fmt::format("{:.2f},{:.2f}", px(s.x[i]), py(s.y[i]));
      ++counts.back();
    }
    for (size_t j = 0; j < stretches.size(); ++j) {
      if (counts[j] == 0) continue;
      if (counts[j] == 1) {  // a lone point: a dot, since a one-point line is invisible
        const size_t comma = stretches[j].find(',');
        svg += fmt::format("<circle class=\"point\" data-series=\"{}\" cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"/>\n",
                           xml_escape(s.name), stretches[j].substr(0, comma), stretches[j].substr(comma + 1),
                           xml_escape(s.color));
      }
      svg += fmt::format(
          "<polyline class=\"series\" data-series=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\" "
          "points=\"{}\"><title>{}</title></polyline>\n",
          xml_escape(s.name), xml_escape(s.color), stretches[j], xml_escape(s.name));
    }
  }
  if (legend) {
    double x = left;
    for (const auto& s : series) {
      svg += fmt::format("<rect x=\"{:.2f}\" y=\"24\" width=\"10\" height=\"10\" fill=\"{}\"/>", x, xml_escape(s.color));
      svg += fmt::format("<text class=\"legend\" x=\"{:.2f}\" y=\"33\">{}</text>\n", x + 13, xml_escape(s.name));
      x += 22 + 6.5 * static_cast<double>(s.name.size());
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace cotrain::eval
