// SPDX-License-Identifier: Apache-2.0
#pragma once
// A small SVG line-chart writer for hypar-sim's and the benchmarks' figures, with no dependencies: charts stacked
// vertically in one document, each with a frame, "nice" ticks on both axes, axis labels, a
// title, a legend and one polyline per series (plus a marker per point for short series).
// Output depends only on the input (fixed number formatting), so figures are reproducible.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hypar::plot {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in this order
};

enum class Corner { top_left, top_right, bottom_left, bottom_right };

struct Chart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::optional<double> y_min;  // axis bounds; taken from the data (rounded out to ticks) if unset
  std::optional<double> y_max;
  Corner legend = Corner::bottom_left;
  std::vector<Series> series;
};

// Text with &, <, >, " and ' escaped for XML content and attribute values.
std::string escape_xml(std::string_view text);

// The whole SVG document. Series without points are listed in the legend but draw no line.
std::string render_svg(const std::vector<Chart>& charts);

// Writes render_svg(charts) to `path`; returns an error message, or an empty string on success.
std::string write_svg(const std::string& path, const std::vector<Chart>& charts);

}  // namespace hypar::plot
