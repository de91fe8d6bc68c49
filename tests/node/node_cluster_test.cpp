// SPDX-License-Identifier: Apache-2.0
// Real nodes over loopback TCP in one process form one overlay: symmetric, connected views.
// Whether every view fills is a property of the protocol, checked in virtual time where no
// scheduling stall of a loaded machine can interfere (node_mem_test.cpp, "mem: 50 nodes converge
// to full, symmetric, connected views over fast and slow links").
#include <catch2/catch.hpp>

#include "node_test_support.hpp"

using namespace hypar;
using namespace hypar::testing;

TEST_CASE("cluster: 20 nodes on loopback form one overlay of symmetric, connected active views") {
  asio::io_context io;
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 20; ++i) nodes.push_back(std::make_unique<Node>(io, fast_config("n" + std::to_string(i))));
  std::vector<std::optional<bool>> joined(nodes.size());
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    asio::co_spawn(io, join_into(*nodes[i], {nodes[0]->id().address}, &joined[i]), asio::detached);
    // One join at a time, as a real deployment staggers them: each waits for the previous one.
    REQUIRE(run_until(io, [&] { return joined[i].has_value(); }, seconds(10)));
    REQUIRE(*joined[i]);
  }
  test::ViewGraph<Address> g;
  const bool formed = run_until(io, [&] {
    g = view_graph(nodes);
    return g.symmetric() && g.connected() && g.min_degree() >= 1;
  }, seconds(30));
  INFO("symmetric " << g.symmetric() << " connected " << g.connected() << " min " << g.min_degree());
  REQUIRE(formed);
  REQUIRE(g.max_degree() <= 5);
}
