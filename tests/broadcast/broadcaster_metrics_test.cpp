// SPDX-License-Identifier: Apache-2.0
// The Broadcaster's metrics in its node's endpoint: deliveries, the hop histogram and the
// duplicates ratio, over loopback TCP; gone once the Broadcaster is destroyed.
#include <catch2/catch.hpp>

#include "../node/node_test_support.hpp"
#include "hypar/broadcast/broadcaster.hpp"

using namespace hypar;
using namespace hypar::testing;

TEST_CASE("broadcast metrics: plumtree counters and the hop histogram in /metrics and /status") {
  asio::io_context io;
  NodeConfig c0 = fast_config("m0");
  c0.metrics_listen = Address::v4(127, 0, 0, 1, 0);
  std::vector<std::unique_ptr<Node>> nodes;
  nodes.push_back(std::make_unique<Node>(io, c0));
  for (int i = 1; i < 4; ++i) nodes.push_back(std::make_unique<Node>(io, fast_config("m" + std::to_string(i))));
  std::vector<std::unique_ptr<Broadcaster>> casters;
  std::vector<std::shared_ptr<std::size_t>> delivered;
  for (auto& n : nodes) {
    casters.push_back(std::make_unique<Broadcaster>(*n, BroadcasterConfig{}));
    delivered.push_back(std::make_shared<std::size_t>(0));
    asio::co_spawn(io, [&caster = *casters.back(), count = delivered.back()]() -> asio::awaitable<void> {
      while (co_await caster.next_delivery()) ++*count;
    }, [](std::exception_ptr) {});
  }
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    asio::co_spawn(io, join_into(*nodes[i], {nodes[0]->id().address}, nullptr), asio::detached);
  }
  REQUIRE(run_until(io, [&] { return nodes[0]->peers().size() >= 2; }, seconds(10)));
  for (int k = 0; k < 5; ++k) REQUIRE(casters[3]->broadcast({'m', static_cast<std::uint8_t>(k)}).ok());
  REQUIRE(run_until(io, [&] { return *delivered[0] == 5; }, seconds(10)));

  const Address endpoint = *nodes[0]->metrics_address();
  const std::string metrics = http_get(io, endpoint, "/metrics");
  REQUIRE(metrics.find("\nhypar_plumtree_delivered_total 5\n") != std::string::npos);
  REQUIRE(metrics.find("\n# TYPE hypar_plumtree_delivery_hops histogram\n") != std::string::npos);
  REQUIRE(metrics.find("\nhypar_plumtree_delivery_hops_count 5\n") != std::string::npos);
  REQUIRE(metrics.find("\nhypar_plumtree_delivery_hops_bucket{le=\"0\"} 0\n") != std::string::npos);  // not the origin
  REQUIRE(metrics.find("\nhypar_plumtree_duplicates_per_delivery ") != std::string::npos);
  REQUIRE(metrics.find("\nhypar_plumtree_congested_total 0\n") != std::string::npos);
  REQUIRE(metrics.find("\nhypar_plumtree_expired_total 0\n") != std::string::npos);
  REQUIRE(metrics.find("\nhypar_active_peers ") != std::string::npos);  // the node's own families too
  const std::string status = http_get(io, endpoint, "/status");
  REQUIRE(status.find("\"plumtree\":{\"delivered\":5,") != std::string::npos);

  casters[0].reset();
  REQUIRE(http_get(io, endpoint, "/metrics").find("hypar_plumtree_") == std::string::npos);
  casters.clear();
}
