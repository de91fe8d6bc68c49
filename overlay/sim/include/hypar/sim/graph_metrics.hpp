// SPDX-License-Identifier: Apache-2.0
#pragma once
// Figures of merit of an overlay snapshot: the directed graph of active views (a -> b when b is
// in a's active view) plus the passive view sizes. Dead nodes, and edges to them or to unknown
// indices, are left out everywhere; only live nodes are counted.
#include <cstddef>
#include <map>
#include <vector>

namespace hypar::sim {

// Views of every node by node index; alive[i] says whether node i is up.
struct ViewGraph {
  std::vector<bool> alive;
  std::vector<std::vector<std::size_t>> active;
  std::vector<std::vector<std::size_t>> passive;
};

struct GraphMetrics {
  std::size_t live_nodes = 0;
  // Every live node reaches every other over directed active edges (true for 0 or 1 live node).
  bool connected = false;
  // Every edge a -> b between live nodes has b -> a.
  bool symmetric = false;
  // Average local clustering coefficient of the undirected graph (a - b when a -> b or b -> a);
  // nodes with fewer than two neighbours count as 0.
  double clustering_coefficient = 0;
  // Over ordered pairs (u, v), u != v, v reachable from u along directed edges (the same as the
  // undirected graph when symmetric). Unreachable pairs are left out, so check `connected`.
  double avg_shortest_path = 0;
  std::size_t diameter = 0;
  // size -> number of live nodes. Active size and in-degree count live peers only; passive size
  // is the raw passive view size (dead entries included, as the node itself sees it).
  std::map<std::size_t, std::size_t> active_size;
  std::map<std::size_t, std::size_t> passive_size;
  std::map<std::size_t, std::size_t> in_degree;

  friend bool operator==(const GraphMetrics&, const GraphMetrics&) = default;
};

// All of the above. Cost: one BFS per live node, O(N * (N + E)).
GraphMetrics analyze(const ViewGraph& graph);

// The pieces, for callers that need one only. `out` must already exclude dead nodes, and each
// adjacency list must be sorted (they use binary search).
bool strongly_connected(const std::vector<std::vector<std::size_t>>& out, const std::vector<bool>& alive);
bool symmetric(const std::vector<std::vector<std::size_t>>& out);
double clustering_coefficient(const std::vector<std::vector<std::size_t>>& out, const std::vector<bool>& alive);

}  // namespace hypar::sim
