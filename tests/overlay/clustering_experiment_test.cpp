// SPDX-License-Identifier: Apache-2.0
// An experiment, not a test (hidden: ctest does not run it): where the triangles of an overlay
// built with fast joins come from. Run it with
//   build/tests/overlay/test-sim "[experiment]"
// It builds hypar-sim graph's overlay at several join intervals and prints, per interval, the
// clustering coefficient beside a random regular graph's, and how many of the overlay's triangles
// have an edge made by a FORWARD_JOIN walk that ended before its TTL ran out because it reached a
// node with at most one neighbour (core.cpp, on_forward_join: "active_.size() <= 1"), go through
// node 0 (every joiner's contact), or join nodes that joined within 20 joins of each other.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>
#include <vector>

#include "hypar/sim/graph_metrics.hpp"
#include "hypar/sim/random_regular.hpp"
#include "hypar/sim/scenarios.hpp"
#include "hypar/sim/simulator.hpp"

using namespace hypar;

namespace {

using Edge = std::pair<std::size_t, std::size_t>;
Edge edge(std::size_t a, std::size_t b) { return a < b ? Edge{a, b} : Edge{b, a}; }

struct Row {
  std::uint64_t join_ms = 0;
  double clustering = 0;
  double baseline = 0;
  std::size_t triangles = 0;
  std::size_t with_short_walk = 0;  // triangles with an edge made by a walk that ended early
  std::size_t with_contact = 0;     // triangles through node 0, every joiner's contact
  std::size_t close_in_order = 0;   // triangles whose three nodes joined within 20 joins (node i joins i-th)
  std::size_t short_walks = 0;      // walks that ended early, at a node with <= 1 neighbour
};

Row run(std::size_t nodes, std::uint64_t join_ms, std::uint64_t seed) {
  sim::Config config;
  config.seed = seed;
  config.options.keepalive_interval = Duration::zero();  // as hypar-sim graph
  config.options.join_swaps = 0;  // the triangles of the paper's join, which the swaps would mix away
  sim::Simulator s(config);
  std::set<Edge> short_walk_edges;
  Row row;
  row.join_ms = join_ms;
  // Called after the core took the message and before its outputs run: a FORWARD_JOIN changes
  // no active view, so the size seen here is the one the core decided on.
  s.on_input([&](const sim::InputEvent& e) {
    if (e.kind != sim::InputKind::received) return;
    const auto* fj = std::get_if<hyparview::ForwardJoin>(e.message);
    if (!fj || std::min(fj->ttl, s.core(e.node).options().arwl) == 0) return;
    if (s.core(e.node).active_view().size() > 1) return;
    const auto joiner = s.index_of(fj->joiner.address);
    if (!joiner || *joiner == e.node) return;
    ++row.short_walks;
    short_walk_edges.insert(edge(e.node, *joiner));
  });
  REQUIRE(sim::build_overlay(s, nodes, 10, milliseconds(static_cast<std::int64_t>(join_ms))));
  const sim::ViewGraph views = s.views();
  row.clustering = sim::analyze(views).clustering_coefficient;
  row.baseline = sim::analyze(sim::random_regular_graph(nodes, config.options.active_size, seed)).clustering_coefficient;
  std::vector<std::set<std::size_t>> und(nodes);
  for (std::size_t a = 0; a < nodes; ++a) {
    for (std::size_t b : views.active[a]) {
      und[a].insert(b);
      und[b].insert(a);
    }
  }
  for (std::size_t a = 0; a < nodes; ++a) {
    for (std::size_t b : und[a]) {
      if (b <= a) continue;
      for (std::size_t c : und[b]) {
        if (c <= b || !und[a].count(c)) continue;
        ++row.triangles;
        if (short_walk_edges.count(edge(a, b)) || short_walk_edges.count(edge(b, c)) ||
            short_walk_edges.count(edge(a, c))) {
          ++row.with_short_walk;
        }
        if (a == 0) ++row.with_contact;
        if (c - a <= 20) ++row.close_in_order;  // a < b < c
      }
    }
  }
  return row;
}

}  // namespace

TEST_CASE("experiment: clustering by join interval, and the triangles of walks that end early", "[.][experiment]") {
  const std::size_t nodes = 2000;
  std::printf("nodes,seed,join_interval_ms,clustering,random_regular_clustering,triangles,"
              "triangles_with_early_walk_edge,triangles_through_contact,triangles_joined_within_20,early_walk_ends\n");
  for (const std::uint64_t seed : {1, 7}) {
    for (const std::uint64_t join_ms : {1, 5, 10, 20, 50, 200}) {
      const Row r = run(nodes, join_ms, seed);
      std::printf("%zu,%llu,%llu,%.6f,%.6f,%zu,%zu,%zu,%zu,%zu\n", nodes, static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(r.join_ms), r.clustering, r.baseline, r.triangles, r.with_short_walk,
                  r.with_contact, r.close_in_order, r.short_walks);
      std::fflush(stdout);
    }
  }
}
