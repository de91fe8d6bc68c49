// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/graph_metrics.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>

namespace hypar::sim {
namespace {

using Adjacency = std::vector<std::vector<std::size_t>>;

bool is_live(const std::vector<bool>& alive, std::size_t node) { return node < alive.size() && alive[node]; }

// Active edges between live nodes, sorted and without duplicates or self-loops.
Adjacency live_edges(const ViewGraph& graph) {
  Adjacency out(graph.alive.size());
  for (std::size_t a = 0; a < out.size(); ++a) {
    if (!graph.alive[a] || a >= graph.active.size()) continue;
    for (std::size_t b : graph.active[a]) {
      if (b != a && is_live(graph.alive, b)) out[a].push_back(b);
    }
    std::sort(out[a].begin(), out[a].end());
    out[a].erase(std::unique(out[a].begin(), out[a].end()), out[a].end());
  }
  return out;
}

Adjacency reversed(const Adjacency& out) {
  Adjacency in(out.size());
  for (std::size_t a = 0; a < out.size(); ++a) {
    for (std::size_t b : out[a]) in[b].push_back(a);
  }
  return in;  // each list ascending, since `a` ascends
}

bool has_edge(const Adjacency& out, std::size_t a, std::size_t b) {
  return std::binary_search(out[a].begin(), out[a].end(), b);
}

// Nodes reachable from `start`, `start` included.
std::size_t reach(const Adjacency& out, std::size_t start) {
  std::vector<bool> seen(out.size());
  std::vector<std::size_t> queue{start};
  seen[start] = true;
  for (std::size_t head = 0; head < queue.size(); ++head) {
    for (std::size_t next : out[queue[head]]) {
      if (!seen[next]) {
        seen[next] = true;
        queue.push_back(next);
      }
    }
  }
  return queue.size();
}

struct PathStats {
  double avg = 0;
  std::size_t diameter = 0;
};

// BFS from every live node, 64 sources at a time: bit j of a node's mask says whether source j
// has reached it. Each level costs O(N + E) for all 64 sources, so N BFS runs cost about
// N/64 * diameter * (N + E). Sums are integers, so the result is exact and order-independent.
PathStats shortest_paths(const Adjacency& out, const std::vector<bool>& alive) {
  const std::size_t n = out.size();
  std::vector<std::uint32_t> offsets(n + 1, 0);  // CSR copy of `out`
  std::vector<std::uint32_t> targets;
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b : out[a]) targets.push_back(static_cast<std::uint32_t>(b));
    offsets[a + 1] = static_cast<std::uint32_t>(targets.size());
  }
  std::vector<std::uint32_t> sources;
  for (std::size_t i = 0; i < n; ++i) {
    if (alive[i]) sources.push_back(static_cast<std::uint32_t>(i));
  }
  std::vector<std::uint64_t> seen(n), frontier(n), next(n);
  std::uint64_t pairs = 0;
  std::uint64_t total = 0;
  std::size_t longest = 0;
  for (std::size_t first = 0; first < sources.size(); first += 64) {
    std::fill(seen.begin(), seen.end(), 0);
    std::fill(frontier.begin(), frontier.end(), 0);
    const std::size_t count = std::min<std::size_t>(64, sources.size() - first);
    for (std::size_t j = 0; j < count; ++j) {
      seen[sources[first + j]] |= std::uint64_t{1} << j;
      frontier[sources[first + j]] |= std::uint64_t{1} << j;
    }
    for (std::size_t level = 1;; ++level) {
      std::fill(next.begin(), next.end(), 0);
      for (std::size_t v = 0; v < n; ++v) {
        if (frontier[v] == 0) continue;
        for (std::uint32_t e = offsets[v]; e < offsets[v + 1]; ++e) next[targets[e]] |= frontier[v];
      }
      bool reached = false;
      for (std::size_t w = 0; w < n; ++w) {
        const std::uint64_t fresh = next[w] & ~seen[w];
        frontier[w] = fresh;
        if (fresh == 0) continue;
        seen[w] |= fresh;
        const auto c = static_cast<std::uint64_t>(std::popcount(fresh));
        pairs += c;
        total += c * level;
        reached = true;
      }
      if (!reached) break;
      longest = std::max(longest, level);
    }
  }
  PathStats stats;
  stats.diameter = longest;
  stats.avg = pairs == 0 ? 0.0 : static_cast<double>(total) / static_cast<double>(pairs);
  return stats;
}

}  // namespace

bool strongly_connected(const Adjacency& out, const std::vector<bool>& alive) {
  std::size_t live = 0;
  std::size_t first = out.size();
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (is_live(alive, i)) {
      if (live++ == 0) first = i;
    }
  }
  if (live <= 1) return true;
  // Strongly connected iff one node reaches all others and all others reach it.
  return reach(out, first) == live && reach(reversed(out), first) == live;
}

bool symmetric(const Adjacency& out) {
  for (std::size_t a = 0; a < out.size(); ++a) {
    for (std::size_t b : out[a]) {
      if (!has_edge(out, b, a)) return false;
    }
  }
  return true;
}

double clustering_coefficient(const Adjacency& out, const std::vector<bool>& alive) {
  // Undirected neighbour sets, sorted.
  Adjacency und = reversed(out);
  for (std::size_t a = 0; a < out.size(); ++a) {
    und[a].insert(und[a].end(), out[a].begin(), out[a].end());
    std::sort(und[a].begin(), und[a].end());
    und[a].erase(std::unique(und[a].begin(), und[a].end()), und[a].end());
  }
  double sum = 0;
  std::size_t live = 0;
  for (std::size_t v = 0; v < und.size(); ++v) {
    if (!is_live(alive, v)) continue;
    ++live;
    const auto& n = und[v];
    if (n.size() < 2) continue;
    std::size_t links = 0;
    for (std::size_t i = 0; i < n.size(); ++i) {
      for (std::size_t j = i + 1; j < n.size(); ++j) {
        if (has_edge(und, n[i], n[j])) ++links;
      }
    }
    const double possible = static_cast<double>(n.size() * (n.size() - 1)) / 2.0;
    sum += static_cast<double>(links) / possible;
  }
  return live == 0 ? 0.0 : sum / static_cast<double>(live);
}

GraphMetrics analyze(const ViewGraph& graph) {
  const Adjacency out = live_edges(graph);
  GraphMetrics m;
  std::vector<std::size_t> in_degree(out.size());
  for (std::size_t a = 0; a < out.size(); ++a) {
    for (std::size_t b : out[a]) ++in_degree[b];
  }
  for (std::size_t a = 0; a < out.size(); ++a) {
    if (!graph.alive[a]) continue;
    ++m.live_nodes;
    ++m.active_size[out[a].size()];
    ++m.passive_size[a < graph.passive.size() ? graph.passive[a].size() : 0];
    ++m.in_degree[in_degree[a]];
  }
  m.connected = strongly_connected(out, graph.alive);
  m.symmetric = symmetric(out);
  m.clustering_coefficient = clustering_coefficient(out, graph.alive);
  const PathStats paths = shortest_paths(out, graph.alive);
  m.avg_shortest_path = paths.avg;
  m.diameter = paths.diameter;
  return m;
}

}  // namespace hypar::sim
