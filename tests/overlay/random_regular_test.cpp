// SPDX-License-Identifier: Apache-2.0
// The random regular graph that hypar-sim graph prints as its baseline.
#include "hypar/sim/random_regular.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <vector>

using namespace hypar;

namespace {

// Every node has `degree` distinct neighbours (the last one degree - 1 when nodes * degree is
// odd), none of them itself, and every edge is there both ways.
void check_regular_simple(const sim::ViewGraph& g, std::size_t degree) {
  const std::size_t n = g.active.size();
  REQUIRE(g.alive.size() == n);
  for (std::size_t v = 0; v < n; ++v) {
    INFO("node " << v);
    const auto& adj = g.active[v];
    const bool short_one = (n * degree) % 2 != 0 && v == n - 1;
    CHECK(adj.size() == (short_one ? degree - 1 : degree));
    CHECK(std::is_sorted(adj.begin(), adj.end()));
    CHECK(std::adjacent_find(adj.begin(), adj.end()) == adj.end());
    CHECK(std::find(adj.begin(), adj.end(), v) == adj.end());
    for (std::size_t w : adj) CHECK(std::binary_search(g.active[w].begin(), g.active[w].end(), v));
  }
}

}  // namespace

TEST_CASE("random regular graph: simple, k-regular, deterministic by seed") {
  const sim::ViewGraph a = sim::random_regular_graph(2000, 5, 7);
  check_regular_simple(a, 5);
  CHECK(sim::random_regular_graph(2000, 5, 7).active == a.active);
  CHECK(sim::random_regular_graph(2000, 5, 8).active != a.active);

  // What the baseline is for: about (k-1)/n clustering, far below an overlay's, and connected.
  const sim::GraphMetrics m = sim::analyze(a);
  CHECK(m.connected);
  CHECK(m.symmetric);
  CHECK(m.clustering_coefficient < 10.0 * 4.0 / 2000.0);
  CHECK(m.active_size == std::map<std::size_t, std::size_t>{{5, 2000}});
}

TEST_CASE("random regular graph: odd n*k, small and degenerate sizes") {
  check_regular_simple(sim::random_regular_graph(101, 5, 1), 5);  // node 100 has 4 neighbours
  check_regular_simple(sim::random_regular_graph(7, 4, 2), 4);
  check_regular_simple(sim::random_regular_graph(6, 5, 3), 5);    // K6
  check_regular_simple(sim::random_regular_graph(3, 5, 4), 2);    // degree capped: the triangle
  CHECK(sim::random_regular_graph(1, 5, 5).active == std::vector<std::vector<std::size_t>>{{}});
  CHECK(sim::random_regular_graph(0, 5, 6).active.empty());
}
