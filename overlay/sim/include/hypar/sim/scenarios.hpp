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

}  // namespace hypar::sim
