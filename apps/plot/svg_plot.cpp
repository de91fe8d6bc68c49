// SPDX-License-Identifier: Apache-2.0
#include "svg_plot.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace hypar::plot {
namespace {

// Geometry of one chart panel, in SVG user units.
constexpr double kWidth = 720;
constexpr double kPanelHeight = 420;
constexpr double kLeft = 80;    // room for y tick labels and the y label
constexpr double kRight = 24;
constexpr double kTop = 48;     // room for the title
constexpr double kBottom = 64;  // room for x tick labels and the x label
constexpr std::size_t kMaxMarkedPoints = 60;
constexpr const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

struct Range {
  double lo = 0;
  double hi = 1;
};

// A tick step of 1, 2 or 5 times a power of ten giving at most about `target` intervals.
double nice_step(double span, int target) {
  const double raw = span / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

// The data range widened to whole ticks (and to a unit span when flat).
Range nice_range(double lo, double hi, std::optional<double> fixed_lo, std::optional<double> fixed_hi) {
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const double step = nice_step(hi - lo, 8);
  Range r{fixed_lo.value_or(std::floor(lo / step) * step), fixed_hi.value_or(std::ceil(hi / step) * step)};
  if (r.hi <= r.lo) r.hi = r.lo + 1;
  return r;
}

std::vector<double> ticks(const Range& r) {
  const double step = nice_step(r.hi - r.lo, 8);
  std::vector<double> out;
  for (double v = std::ceil(r.lo / step - 1e-9) * step; v <= r.hi + step * 1e-9; v += step) {
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return out;
}

// Shortest fixed-point text for a tick value (no exponent, no trailing zeros).
std::string number(double v) {
  std::string text = fmt::format("{:.6f}", v);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text == "-0" ? "0" : text;
}

std::string coord(double v) { return fmt::format("{:.2f}", v); }

void render_chart(std::string& out, const Chart& chart, double y0) {
  double xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  bool any = false;
  for (const Series& s : chart.series) {
    for (const auto& [x, y] : s.points) {
      if (!any) {
        xlo = xhi = x;
        ylo = yhi = y;
        any = true;
      }
      xlo = std::min(xlo, x);
      xhi = std::max(xhi, x);
      ylo = std::min(ylo, y);
      yhi = std::max(yhi, y);
    }
  }
  const Range xr = nice_range(xlo, xhi, std::nullopt, std::nullopt);
  const Range yr = nice_range(ylo, yhi, chart.y_min, chart.y_max);
  const double left = kLeft, right = kWidth - kRight, top = y0 + kTop, bottom = y0 + kPanelHeight - kBottom;
  const auto px = [&](double x) { return left + (x - xr.lo) / (xr.hi - xr.lo) * (right - left); };
  const auto py = [&](double y) { return bottom - (y - yr.lo) / (yr.hi - yr.lo) * (bottom - top); };

  out += fmt::format("<g class=\"chart\">\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"16\">{}</text>\n",
                     coord((left + right) / 2), coord(y0 + 28), escape_xml(chart.title));
  for (double t : ticks(xr)) {
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#ddd\"/><text x=\"{0}\" y=\"{3}\" "
        "text-anchor=\"middle\">{4}</text>\n",
        coord(px(t)), coord(top), coord(bottom), coord(bottom + 18), number(t));
  }
  for (double t : ticks(yr)) {
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#ddd\"/><text x=\"{3}\" y=\"{4}\" "
        "text-anchor=\"end\">{5}</text>\n",
        coord(left), coord(py(t)), coord(right), coord(left - 8), coord(py(t) + 4), number(t));
  }
  out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#000\"/>\n",
                     coord(left), coord(top), coord(right - left), coord(bottom - top));
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", coord((left + right) / 2),
                     coord(bottom + 44), escape_xml(chart.x_label));
  out += fmt::format("<text x=\"{0}\" y=\"{1}\" text-anchor=\"middle\" transform=\"rotate(-90 {0} {1})\">{2}</text>\n",
                     coord(24), coord((top + bottom) / 2), escape_xml(chart.y_label));

  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const Series& s = chart.series[i];
    const char* colour = kColours[i % std::size(kColours)];
    if (s.points.empty()) continue;
    out += fmt::format("<polyline class=\"series\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"", colour);
    for (std::size_t p = 0; p < s.points.size(); ++p) {
      out += fmt::format("{}{},{}", p == 0 ? "" : " ", coord(px(s.points[p].first)), coord(py(s.points[p].second)));
    }
    out += "\"/>\n";
    if (s.points.size() <= kMaxMarkedPoints) {
      for (const auto& [x, y] : s.points) {
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>\n", coord(px(x)), coord(py(y)), colour);
      }
    }
  }

  // Legend: one line of sample stroke and name per series, in the chosen corner.
  const double row = 20, box_w = 230, box_h = row * static_cast<double>(chart.series.size()) + 10;
  const bool at_left = chart.legend == Corner::top_left || chart.legend == Corner::bottom_left;
  const bool at_top = chart.legend == Corner::top_left || chart.legend == Corner::top_right;
  const double lx = at_left ? left + 10 : right - 10 - box_w;
  const double ly = at_top ? top + 10 : bottom - 10 - box_h;
  out += fmt::format("<g class=\"legend\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" "
                     "stroke=\"#999\"/>\n",
                     coord(lx), coord(ly), coord(box_w), coord(box_h));
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const double y = ly + 15 + row * static_cast<double>(i);
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">{}</text>\n",
        coord(lx + 8), coord(y), coord(lx + 36), coord(y), kColours[i % std::size(kColours)], coord(lx + 44),
        coord(y + 4), escape_xml(chart.series[i].name));
  }
  out += "</g>\n</g>\n";
}

}  // namespace

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_svg(const std::vector<Chart>& charts) {
  const double height = kPanelHeight * static_cast<double>(std::max<std::size_t>(charts.size(), 1));
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" "
      "height=\"{1}\" viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
      number(kWidth), number(height));
  for (std::size_t i = 0; i < charts.size(); ++i) render_chart(out, charts[i], kPanelHeight * static_cast<double>(i));
  out += "</svg>\n";
  return out;
}

std::string write_svg(const std::string& path, const std::vector<Chart>& charts) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return "cannot open " + path + " for writing";
  file << render_svg(charts);
  file.close();
  if (!file) return "cannot write " + path;
  return {};
}

}  // namespace hypar::plot
