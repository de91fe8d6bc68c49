// SPDX-License-Identifier: Apache-2.0
// hypar-sim's SVG chart writer: document structure, one polyline per series with every point,
// escaped labels, axis ranges taken from the data or given.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "svg_plot.hpp"

using namespace hypar::plot;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The value of the points attribute of the i-th polyline.
std::string polyline_points(const std::string& svg, std::size_t i) {
  std::size_t at = 0;
  for (std::size_t k = 0; k <= i; ++k) at = svg.find("<polyline", at + 1);
  REQUIRE(at != std::string::npos);
  const std::size_t begin = svg.find("points=\"", at) + 8;
  return svg.substr(begin, svg.find('"', begin) - begin);
}

Chart two_series() {
  Chart c;
  c.title = "Reliability";
  c.x_label = "failed nodes (%)";
  c.y_label = "reliability (%)";
  c.y_max = 100.0;
  c.series.push_back({"ours", {{10, 100}, {50, 99.5}, {95, 90}}});
  c.series.push_back({"paper", {{10, 100}, {20, 100}, {30, 100}, {95, 90.9}}});
  return c;
}

}  // namespace

TEST_CASE("svg: one well-formed document with a polyline per series and every point") {
  const std::string svg = render_svg({two_series()});
  CHECK(svg.rfind("<?xml", 0) == 0);
  CHECK(count(svg, "<svg ") == 1);
  CHECK(count(svg, "</svg>") == 1);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  // Every element opened is closed: either self-closing or with its end tag.
  CHECK(count(svg, "<g ") + count(svg, "<g>") == count(svg, "</g>"));
  CHECK(count(svg, "<text") == count(svg, "</text>"));
  CHECK(count(svg, "<polyline") == 2);
  CHECK(count(polyline_points(svg, 0), ",") == 3);
  CHECK(count(polyline_points(svg, 1), ",") == 4);
  CHECK(count(svg, "<circle") == 7);  // a marker per point of these short series
  CHECK(svg.find(">ours</text>") != std::string::npos);  // the legend names both
  CHECK(svg.find(">paper</text>") != std::string::npos);
  CHECK(svg.find(">failed nodes (%)</text>") != std::string::npos);
}

TEST_CASE("svg: labels are escaped") {
  Chart c = two_series();
  c.title = "a < b & \"c\" > 'd'";
  c.series[0].name = "x<y>";
  const std::string svg = render_svg({c});
  CHECK(svg.find("a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;") != std::string::npos);
  CHECK(svg.find("x&lt;y&gt;") != std::string::npos);
  CHECK(svg.find("x<y>") == std::string::npos);
  CHECK(escape_xml("plain") == "plain");
}

TEST_CASE("svg: points map into the frame, the highest y on the top edge when y_max is the maximum") {
  const std::string svg = render_svg({two_series()});
  // The frame is the one rect with a black stroke: x 80..696, y 48..356 for a single chart.
  CHECK(svg.find("<rect x=\"80.00\" y=\"48.00\" width=\"616.00\" height=\"308.00\"") != std::string::npos);
  const std::string first = polyline_points(svg, 0);
  CHECK(first.rfind("1", 0) == 0);          // x = 10 lies right of the left edge (axis from 0)
  CHECK(first.find(",48.00") != std::string::npos);  // y = 100 = y_max: the top edge
}

TEST_CASE("svg: long series get no markers, charts stack, an empty series draws nothing") {
  Chart c;
  c.title = "long";
  c.series.push_back({"many points", {}});
  for (int i = 0; i < 500; ++i) c.series[0].points.emplace_back(i, i % 7);
  Chart empty;
  empty.series.push_back({"nothing yet", {}});
  const std::string svg = render_svg({c, empty});
  CHECK(count(svg, "<polyline") == 1);
  CHECK(count(polyline_points(svg, 0), ",") == 500);
  CHECK(count(svg, "<circle") == 0);
  CHECK(count(svg, "class=\"chart\"") == 2);
  CHECK(svg.find("height=\"840\"") != std::string::npos);  // two panels of 420
}

TEST_CASE("svg: write_svg writes the rendered document, and reports a path it cannot write") {
  const std::string path = "svg_plot_test_output.svg";
  REQUIRE(write_svg(path, {two_series()}).empty());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == render_svg({two_series()}));
  std::remove(path.c_str());
  CHECK_FALSE(write_svg("/nonexistent-dir/x.svg", {two_series()}).empty());
}
