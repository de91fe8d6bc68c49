// SPDX-License-Identifier: Apache-2.0
// 50 real nodes over loopback TCP in one process converge to full, symmetric, connected views.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "node_test_support.hpp"

using namespace hypar;
using namespace hypar::testing;

namespace {

struct Snapshot {
  bool symmetric = true;
  bool connected = false;
  std::size_t short_views = 0;  // nodes below active_size - 1
  std::size_t min_view = 5;
};

Snapshot snapshot(const std::vector<std::unique_ptr<Node>>& nodes) {
  std::map<Address, std::set<Address>> graph;
  for (const auto& n : nodes) {
    auto& out = graph[n->id().address];
    for (const auto& p : n->peers()) out.insert(p.address);
  }
  Snapshot s;
  for (const auto& [a, out] : graph) {
    if (out.size() + 1 < 5) ++s.short_views;
    s.min_view = std::min(s.min_view, out.size());
    for (const auto& b : out) {
      if (!graph.count(b) || !graph[b].count(a)) s.symmetric = false;
    }
  }
  std::set<Address> seen{graph.begin()->first};
  std::vector<Address> todo{graph.begin()->first};
  while (!todo.empty()) {
    const Address a = todo.back();
    todo.pop_back();
    for (const auto& b : graph[a]) {
      if (seen.insert(b).second) todo.push_back(b);
    }
  }
  s.connected = seen.size() == graph.size();
  return s;
}

}  // namespace

TEST_CASE("cluster: 50 nodes on loopback converge to full, symmetric, connected active views") {
  asio::io_context io;
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 50; ++i) nodes.push_back(std::make_unique<Node>(io, fast_config("n" + std::to_string(i))));
  std::vector<std::optional<bool>> joined(nodes.size());
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    asio::co_spawn(io, join_into(*nodes[i], {nodes[0]->id().address}, &joined[i]), asio::detached);
    io.restart();
    io.run_for(milliseconds(20));
  }
  REQUIRE(run_until(io, [&] { return std::count(joined.begin() + 1, joined.end(), std::optional<bool>(true)) == 49; }, seconds(10)));
  Snapshot s;
  const bool converged = run_until(io, [&] {
    s = snapshot(nodes);
    // HyParView does not promise every view full (see the simulator tests); over real TCP we
    // require all views full or one short, allowing one straggler two short at the snapshot.
    // (In virtual time on the mem network every view fills, with 1-100 ms links and after long
    // stalls: node_mem_test.cpp. Under sanitizers on a loaded machine, real scheduling stalls
    // past the 1.5 s keepalive timeout make false failures that this test tolerates.)
    return s.symmetric && s.connected && s.short_views <= 1 && s.min_view >= 3;
  }, seconds(30));
  INFO("symmetric " << s.symmetric << " connected " << s.connected << " short " << s.short_views << " min "
                    << s.min_view);
  REQUIRE(converged);
  for (const auto& n : nodes) REQUIRE(n->peers().size() <= 5);
}
