// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/graph_metrics.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <utility>
#include <vector>

using hypar::sim::analyze;
using hypar::sim::GraphMetrics;
using hypar::sim::ViewGraph;

namespace {

// A graph of n live nodes with the given directed edges and empty passive views.
ViewGraph directed(std::size_t n, const std::vector<std::pair<std::size_t, std::size_t>>& edges) {
  ViewGraph g;
  g.alive.assign(n, true);
  g.active.resize(n);
  g.passive.resize(n);
  for (auto [a, b] : edges) g.active[a].push_back(b);
  return g;
}

// Each undirected edge becomes two directed ones.
ViewGraph undirected(std::size_t n, const std::vector<std::pair<std::size_t, std::size_t>>& edges) {
  std::vector<std::pair<std::size_t, std::size_t>> both;
  for (auto [a, b] : edges) {
    both.emplace_back(a, b);
    both.emplace_back(b, a);
  }
  return directed(n, both);
}

using Counts = std::map<std::size_t, std::size_t>;

}  // namespace

TEST_CASE("ring of six: connected, symmetric, no triangles, paths up to three hops") {
  const GraphMetrics m = analyze(undirected(6, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 0}}));
  CHECK(m.live_nodes == 6);
  CHECK(m.connected);
  CHECK(m.symmetric);
  CHECK(m.clustering_coefficient == 0.0);
  CHECK(m.avg_shortest_path == Approx(9.0 / 5.0));  // 1 + 1 + 2 + 2 + 3 from every node
  CHECK(m.diameter == 3);
  CHECK(m.active_size == Counts{{2, 6}});
  CHECK(m.in_degree == Counts{{2, 6}});
  CHECK(m.passive_size == Counts{{0, 6}});
}

TEST_CASE("complete graph of five: clustering 1, every path one hop") {
  std::vector<std::pair<std::size_t, std::size_t>> edges;
  for (std::size_t a = 0; a < 5; ++a) {
    for (std::size_t b = a + 1; b < 5; ++b) edges.emplace_back(a, b);
  }
  const GraphMetrics m = analyze(undirected(5, edges));
  CHECK(m.connected);
  CHECK(m.symmetric);
  CHECK(m.clustering_coefficient == 1.0);
  CHECK(m.avg_shortest_path == 1.0);
  CHECK(m.diameter == 1);
  CHECK(m.active_size == Counts{{4, 5}});
  CHECK(m.in_degree == Counts{{4, 5}});
}

TEST_CASE("asymmetric pair: one edge only is neither symmetric nor strongly connected") {
  const GraphMetrics m = analyze(directed(2, {{0, 1}}));
  CHECK_FALSE(m.connected);
  CHECK_FALSE(m.symmetric);
  CHECK(m.avg_shortest_path == 1.0);  // the one reachable ordered pair
  CHECK(m.diameter == 1);
  CHECK(m.active_size == Counts{{0, 1}, {1, 1}});
  CHECK(m.in_degree == Counts{{0, 1}, {1, 1}});
  CHECK(m.clustering_coefficient == 0.0);
}

TEST_CASE("two separate triangles: symmetric but disconnected") {
  const GraphMetrics m = analyze(undirected(6, {{0, 1}, {1, 2}, {2, 0}, {3, 4}, {4, 5}, {5, 3}}));
  CHECK_FALSE(m.connected);
  CHECK(m.symmetric);
  CHECK(m.clustering_coefficient == 1.0);
  CHECK(m.avg_shortest_path == 1.0);
  CHECK(m.diameter == 1);
}

TEST_CASE("triangle plus pendant: clustering (1/3 + 1 + 1 + 0) / 4") {
  const GraphMetrics m = analyze(undirected(4, {{0, 1}, {1, 2}, {2, 0}, {0, 3}}));
  CHECK(m.connected);
  CHECK(m.symmetric);
  CHECK(m.clustering_coefficient == Approx(7.0 / 12.0));
  CHECK(m.avg_shortest_path == Approx(16.0 / 12.0));
  CHECK(m.diameter == 2);
  CHECK(m.active_size == Counts{{1, 1}, {2, 2}, {3, 1}});
}

TEST_CASE("dead nodes and edges to them are left out") {
  // A ring of four whose node 3 is dead is a live path 0 - 1 - 2.
  ViewGraph g = undirected(4, {{0, 1}, {1, 2}, {2, 3}, {3, 0}});
  g.alive[3] = false;
  g.passive[0] = {1, 2, 3};  // passive sizes are raw: dead entries count
  const GraphMetrics m = analyze(g);
  CHECK(m.live_nodes == 3);
  CHECK(m.connected);
  CHECK(m.symmetric);
  CHECK(m.diameter == 2);
  CHECK(m.avg_shortest_path == Approx(8.0 / 6.0));
  CHECK(m.active_size == Counts{{1, 2}, {2, 1}});
  CHECK(m.passive_size == Counts{{0, 2}, {3, 1}});
}

TEST_CASE("degenerate graphs") {
  SECTION("empty") {
    const GraphMetrics m = analyze(ViewGraph{});
    CHECK(m.live_nodes == 0);
    CHECK(m.connected);
    CHECK(m.avg_shortest_path == 0.0);
  }
  SECTION("a lone node") {
    const GraphMetrics m = analyze(directed(1, {}));
    CHECK(m.connected);
    CHECK(m.symmetric);
    CHECK(m.diameter == 0);
  }
  SECTION("self-loops and unknown indices are ignored") {
    const GraphMetrics m = analyze(directed(2, {{0, 0}, {0, 7}, {0, 1}, {1, 0}}));
    CHECK(m.symmetric);
    CHECK(m.active_size == Counts{{1, 2}});
  }
}
