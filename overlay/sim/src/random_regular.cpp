// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/random_regular.hpp"

#include <algorithm>
#include <vector>

#include "hypar/rng.hpp"

namespace hypar::sim {
namespace {

// Failed pairings in a row after which an attempt is given up and started over: only the last
// few free ends can be stuck, and for them a few hundred draws tell.
constexpr std::size_t kMaxMisses = 1000;

bool adjacent(const std::vector<std::vector<std::size_t>>& adj, std::size_t a, std::size_t b) {
  if (adj[b].size() < adj[a].size()) std::swap(a, b);
  return std::find(adj[a].begin(), adj[a].end(), b) != adj[a].end();
}

// One attempt; false when it got stuck.
bool try_pairing(std::size_t nodes, std::size_t degree, Rng& rng, std::vector<std::vector<std::size_t>>& adj) {
  adj.assign(nodes, {});
  std::vector<std::size_t> ends;  // free edge ends, one entry per missing edge of a node
  ends.reserve(nodes * degree);
  for (std::size_t v = 0; v < nodes; ++v) ends.insert(ends.end(), degree, v);
  if (ends.size() % 2 != 0) ends.pop_back();  // odd total: the last node gets one edge fewer
  std::size_t misses = 0;
  while (!ends.empty()) {
    const std::size_t i = rng.index(ends.size());
    std::size_t j = rng.index(ends.size() - 1);
    if (j >= i) ++j;
    const std::size_t a = ends[i];
    const std::size_t b = ends[j];
    if (a == b || adjacent(adj, a, b)) {
      if (++misses == kMaxMisses) return false;
      continue;
    }
    misses = 0;
    adj[a].push_back(b);
    adj[b].push_back(a);
    // Remove both ends, the higher index first so that the lower one stays valid.
    for (const std::size_t k : {std::max(i, j), std::min(i, j)}) {
      ends[k] = ends.back();
      ends.pop_back();
    }
  }
  return true;
}

}  // namespace

ViewGraph random_regular_graph(std::size_t nodes, std::size_t degree, std::uint64_t seed) {
  ViewGraph graph;
  graph.alive.assign(nodes, true);
  graph.passive.assign(nodes, {});
  if (nodes == 0) return graph;
  if (degree >= nodes - 1) {  // the complete graph: nothing to draw
    graph.active.assign(nodes, {});
    for (std::size_t v = 0; v < nodes; ++v) {
      for (std::size_t w = 0; w < nodes; ++w) {
        if (w != v) graph.active[v].push_back(w);
      }
    }
    return graph;
  }
  Rng rng(seed);
  while (!try_pairing(nodes, degree, rng, graph.active)) {
  }
  for (auto& neighbours : graph.active) std::sort(neighbours.begin(), neighbours.end());
  return graph;
}

}  // namespace hypar::sim
