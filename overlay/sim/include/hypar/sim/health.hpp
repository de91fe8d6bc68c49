// SPDX-License-Identifier: Apache-2.0
#pragma once
// A cheap health snapshot of a simulated overlay, for following repair over time (unlike
// analyze(), no all-pairs search): is the live active-view graph connected and symmetric, and do
// live nodes still point at dead ones?
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hypar/rng.hpp"
#include "hypar/sim/simulator.hpp"

namespace hypar::sim {

struct Health {
  std::size_t alive = 0;
  bool connected = false;
  bool symmetric = false;
  std::size_t dead_in_active = 0;   // active-view entries of live nodes that name dead nodes
  std::size_t full_active = 0;      // live nodes whose active view is full
  std::size_t short_by_one = 0;     // live nodes one short of full
  double avg_active = 0;            // mean active view size of live nodes (live entries only)
};

Health measure_health(const Simulator& sim);

// Crashes round(count * percent / 100) distinct live nodes chosen with `rng`; returns them.
std::vector<std::size_t> kill_percent(Simulator& sim, double percent, Rng& rng);

}  // namespace hypar::sim
