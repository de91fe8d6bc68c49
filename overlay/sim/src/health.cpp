// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/health.hpp"

#include <algorithm>
#include <cmath>

#include "hypar/sim/graph_metrics.hpp"

namespace hypar::sim {

Health measure_health(const Simulator& sim) {
  const ViewGraph views = sim.views();
  const std::size_t active_size = sim.size() == 0 ? 0 : sim.core(0).options().active_size;
  Health h;
  std::vector<std::vector<std::size_t>> live_edges(views.active.size());
  std::size_t live_entries = 0;
  for (std::size_t node = 0; node < views.active.size(); ++node) {
    if (!views.alive[node]) continue;
    ++h.alive;
    for (std::size_t peer : views.active[node]) {
      if (peer < views.alive.size() && views.alive[peer]) {
        live_edges[node].push_back(peer);
      } else {
        ++h.dead_in_active;
      }
    }
    std::sort(live_edges[node].begin(), live_edges[node].end());  // the graph functions need sorted lists
    live_entries += live_edges[node].size();
    if (live_edges[node].size() == active_size) ++h.full_active;
    if (live_edges[node].size() + 1 == active_size) ++h.short_by_one;
  }
  h.connected = strongly_connected(live_edges, views.alive);
  h.symmetric = symmetric(live_edges);
  h.avg_active = h.alive == 0 ? 0.0 : static_cast<double>(live_entries) / static_cast<double>(h.alive);
  return h;
}

std::vector<std::size_t> kill_percent(Simulator& sim, double percent, Rng& rng) {
  std::vector<std::size_t> live;
  for (std::size_t node = 0; node < sim.size(); ++node) {
    if (sim.alive(node)) live.push_back(node);
  }
  const auto count = static_cast<std::size_t>(std::lround(static_cast<double>(sim.size()) * percent / 100.0));
  rng.shuffle(std::span<std::size_t>(live));
  if (live.size() > count) live.resize(count);
  for (std::size_t node : live) sim.kill(node);
  return live;
}

}  // namespace hypar::sim
