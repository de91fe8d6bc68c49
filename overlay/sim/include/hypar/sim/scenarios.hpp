// SPDX-License-Identifier: Apache-2.0
#pragma once
// Scenario steps shared by hypar-sim and the tests, so both run exactly the same experiment.
#include <cstdint>
#include <functional>
#include <stdexcept>

#include "hypar/sim/simulator.hpp"

namespace hypar::sim {

// On an empty simulator: adds `count` nodes one by one; each joins through node 0 (the first node added, which joins
// nobody) and the simulation runs `join_interval` before the next one. Then runs `rounds` shuffle
// periods. `progress(phase, step)` is called after each join and round if set. Returns false if
// the simulator's event bound stopped a run.
inline bool build_overlay(Simulator& sim, std::size_t count, std::uint64_t rounds, Duration join_interval,
                          const std::function<void(const char* phase, std::uint64_t step)>& progress = {}) {
  if (sim.size() != 0) throw std::logic_error("build_overlay needs an empty simulator");
  if (count == 0) return true;
  sim.add_node();
  for (std::size_t i = 1; i < count; ++i) {
    const std::size_t node = sim.add_node();
    sim.join(node, {0});
    if (!sim.run_for(join_interval)) return false;
    if (progress) progress("join", i);
  }
  const Duration round = sim.core(0).options().shuffle_period;
  for (std::uint64_t r = 1; r <= rounds; ++r) {
    if (!sim.run_for(round)) return false;
    if (progress) progress("round", r);
  }
  return true;
}

// Shuffle periods after the last join until the join swaps are over (Options::join_swaps: a node
// that saw joins overlap swaps one link a period, K times once its view is full, and the views
// those swaps shorten refill after them): K + 7, for no link change from then on in nearly every
// run (measured at 500 and 1,000 nodes, 10 ms joins: the last changes came 13-14 periods after
// the joins with K = 8). 0 with the paper's join. A measurement of the settled overlay builds
// with at least this many rounds.
inline std::uint64_t join_swap_rounds(const hyparview::Options& options) {
  return options.join_swaps == 0 ? 0 : options.join_swaps + 7;
}

}  // namespace hypar::sim
