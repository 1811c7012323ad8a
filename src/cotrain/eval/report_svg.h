// Line charts as plain SVG text, for reports that need no network and no script.
// Each series is drawn as <polyline class="series" data-series="NAME" points="..">
// (one polyline per unbroken stretch: non-finite values leave a gap), inside
// <rect class="plot-area" ...>; data map to pixels linearly (x to the right, y up)
// over "nice" axis ranges that contain every finite value.
#pragma once
#include <string>
#include <vector>

namespace cotrain::eval {

struct ChartSeries {
  std::string name;
  std::string color;  // any SVG colour, e.g. "#1f77b4"
  std::vector<double> x, y;  // same length; x finite; y may hold NaN (gap)
};

struct ChartSpec {
  std::string title;
  std::string x_label = "update";
  int width = 460;
  int height = 260;
};

// Round tick values covering [lo, hi] with about `target` steps (1, 2, 2.5 or 5
// times a power of ten); the first tick <= lo and the last >= hi.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

// Compact label for a tick or value: 0.0005 -> "5e-04", 12000 -> "12000", 0.25 -> "0.25".
std::string format_tick(double v);

// The opening of a chart: <svg> of class `css_class` with its title and the plot-area
// rectangle from (left, top) to (right, bottom); the caller adds content and "</svg>".
std::string svg_chart_open(const std::string& css_class, int width, int height, const std::string& title,
                           double left, double top, double right, double bottom);

// The chart; a chart without any finite point says "no data".
std::string line_chart_svg(const ChartSpec& spec, const std::vector<ChartSeries>& series);

// Escapes &, <, >, " and ' for XML/HTML text and attribute values.
std::string xml_escape(const std::string& text);

// Distinct colours for up to 10 runs (then repeating).
const std::string& series_color(size_t index);

}  // namespace cotrain::eval
