// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar-sim --metrics-out FILE: the membership metrics of every simulated node, under the same
// Prometheus names a real node exports (hyparview::write_prometheus), each sample labelled with
// node="IP:PORT", so that dashboards and alerts can be tried on a simulation (docs/operations.md).
// Counted from the simulator's observers: a message a node receives counts as sent by its
// sender (messages lost to a crash are not counted as sent).
#include <string>
#include <vector>

#include "hypar/hyparview/membership_metrics.hpp"
#include "hypar/sim/simulator.hpp"

namespace hypar::sim_app {

class SimMetrics {
 public:
  // Installs the simulator's on_input and on_app_event observers; create it before running.
  explicit SimMetrics(sim::Simulator& sim);
  // Prometheus text of every node (dead ones too, with hypar_up 0).
  std::string render() const;
  // Writes render() to `path`; an error message, or empty on success.
  std::string write(const std::string& path) const;

 private:
  hyparview::MembershipCounters& of(std::size_t node);
  sim::Simulator& sim_;
  std::vector<hyparview::MembershipCounters> counters_;
};

}  // namespace hypar::sim_app
