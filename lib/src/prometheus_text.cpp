// SPDX-License-Identifier: Apache-2.0
#include "hypar/prometheus_text.hpp"

#include <cmath>
#include <fmt/format.h>

namespace hypar::prom {
namespace {

// Label values escape backslash, double quote and newline; HELP text escapes backslash and newline.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    out += fmt::format("{}", static_cast<std::int64_t>(value));
  } else {
    out += fmt::format("{}", value);
  }
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  ++count_;
  sum_ += value;
}

Family::Family(std::string name, std::string type, std::string help)
    : name_(std::move(name)), type_(std::move(type)), help_(std::move(help)) {}

Family& Family::add(Labels labels, double value) {
  samples_.push_back(Sample{"", std::move(labels), value});
  return *this;
}

Family& Family::add_histogram(const Labels& labels, const Histogram& histogram) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < histogram.upper_bounds().size(); ++i) {
    cumulative += histogram.counts()[i];
    samples_.push_back(Sample{"_bucket", with(labels, "le", fmt::format("{}", histogram.upper_bounds()[i])),
                              static_cast<double>(cumulative)});
  }
  samples_.push_back(Sample{"_bucket", with(labels, "le", "+Inf"), static_cast<double>(histogram.count())});
  samples_.push_back(Sample{"_sum", labels, histogram.sum()});
  samples_.push_back(Sample{"_count", labels, static_cast<double>(histogram.count())});
  return *this;
}

void Family::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  append_escaped(out, help_, false);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_;
  out += '\n';
  for (const auto& sample : samples_) {
    out += name_;
    out += sample.suffix;
    if (!sample.labels.empty()) {
      out += '{';
      for (std::size_t i = 0; i < sample.labels.size(); ++i) {
        if (i) out += ',';
        out += sample.labels[i].name;
        out += "=\"";
        append_escaped(out, sample.labels[i].value, true);
        out += '"';
      }
      out += '}';
    }
    out += ' ';
    append_value(out, sample.value);
    out += '\n';
  }
}

Family& Families::get(std::string_view name, std::string_view type, std::string_view help) {
  for (auto& family : families_) {
    if (family.name() == name) return family;
  }
  return families_.emplace_back(std::string(name), std::string(type), std::string(help));
}

std::string Families::render() const {
  std::string out;
  for (const auto& family : families_) family.render(out);
  return out;
}

Labels with(const Labels& labels, std::string name, std::string value) {
  Labels out = labels;
  out.push_back(Label{std::move(name), std::move(value)});
  return out;
}

}  // namespace hypar::prom
