// SPDX-License-Identifier: Apache-2.0
#pragma once
// Prometheus text exposition format (version 0.0.4), built as metric families that are rendered
// in one pass. A family groups every sample of one metric name (with its HELP and TYPE lines), so
// several sources (one node, or the simulator's many nodes told apart by a `node` label) can add
// samples to the same family before rendering, as the format requires.
//
//   prom::Families out;
//   out.counter("hypar_link_up_total", "Peers that entered the active view.").add({}, n);
//   out.gauge("hypar_active_peers", "Peers in the active view.").add({{"node", "a"}}, 5);
//   std::string text = out.render();
//
// Names follow Prometheus conventions (hypar_ prefix, base units, _total for counters); label
// values are escaped on rendering. No allocation per message: this is the scrape path only.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hypar::prom {

struct Label {
  std::string name;
  std::string value;
};
using Labels = std::vector<Label>;

struct Sample {
  std::string suffix;  // appended to the family name: "", "_bucket", "_sum", "_count"
  Labels labels;
  double value = 0;
};

// Cumulative histogram buckets with fixed upper bounds (le), as Prometheus expects.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // counts()[i]: observations <= upper_bounds()[i] and > the bound before (not cumulative).
  const std::vector<std::uint64_t>& counts() const { return counts_; }
  std::uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // one more than bounds_: the +Inf bucket
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

class Family {
 public:
  Family(std::string name, std::string type, std::string help);
  Family& add(Labels labels, double value);
  // _bucket (cumulative, with le), _sum and _count samples. Only for type "histogram".
  Family& add_histogram(const Labels& labels, const Histogram& histogram);
  const std::string& name() const { return name_; }
  void render(std::string& out) const;

 private:
  std::string name_, type_, help_;
  std::vector<Sample> samples_;
};

class Families {
 public:
  // The family of that name, created on first use (HELP and TYPE come from the first call).
  Family& counter(std::string_view name, std::string_view help) { return get(name, "counter", help); }
  Family& gauge(std::string_view name, std::string_view help) { return get(name, "gauge", help); }
  Family& histogram(std::string_view name, std::string_view help) { return get(name, "histogram", help); }
  std::string render() const;

 private:
  Family& get(std::string_view name, std::string_view type, std::string_view help);
  std::vector<Family> families_;  // in order of first use
};

// `labels` plus one more label (e.g. {"reason", "failed"}).
Labels with(const Labels& labels, std::string name, std::string value);

}  // namespace hypar::prom
