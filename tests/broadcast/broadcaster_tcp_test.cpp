// SPDX-License-Identifier: Apache-2.0
// The Broadcaster over real loopback TCP, in one process and real time: 8 nodes, broadcasts from
// two origins, every node delivers each exactly once.
#include <catch2/catch.hpp>

#include "../node/node_test_support.hpp"
#include "hypar/broadcast/broadcaster.hpp"

using namespace hypar;
using namespace hypar::testing;

TEST_CASE("broadcast over TCP: 8 nodes on loopback, 40 broadcasts from 2 origins, each delivered once") {
  asio::io_context io;
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::unique_ptr<Broadcaster>> casters;  // destroyed before the nodes
  std::vector<std::shared_ptr<std::vector<Delivery>>> logs;
  for (int i = 0; i < 8; ++i) {
    nodes.push_back(std::make_unique<Node>(io, fast_config("t" + std::to_string(i))));
    casters.push_back(std::make_unique<Broadcaster>(*nodes.back(), BroadcasterConfig{}));
    logs.push_back(std::make_shared<std::vector<Delivery>>());
    asio::co_spawn(io, [&caster = *casters.back(), log = logs.back()]() -> asio::awaitable<void> {
      for (;;) {
        std::optional<Delivery> d = co_await caster.next_delivery();
        if (!d) co_return;
        log->push_back(std::move(*d));
      }
    }, [](std::exception_ptr) {});
  }
  std::vector<std::optional<bool>> joined(nodes.size());
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    asio::co_spawn(io, join_into(*nodes[i], {nodes[0]->id().address}, &joined[i]), asio::detached);
  }
  REQUIRE(run_until(io, [&] { return std::count(joined.begin() + 1, joined.end(), std::optional<bool>(true)) == 7; },
                    seconds(10)));
  run_until(io, [] { return false; }, milliseconds(300));  // let the joins' random walks settle

  std::vector<plumtree::MessageId> ids;
  for (int k = 0; k < 40; ++k) {
    const std::string text = "tcp " + std::to_string(k);
    const BroadcastResult r = casters[k % 2 == 0 ? 0 : 5]->broadcast({text.begin(), text.end()});
    REQUIRE(r.ok());
    ids.push_back(r.id());
  }
  auto count = [&](std::size_t i, const plumtree::MessageId& id) {
    return std::count_if(logs[i]->begin(), logs[i]->end(),
                         [&](const Delivery& d) { return d.origin == id.origin && d.seq == id.seq; });
  };
  auto everyone_has_all = [&] {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      for (const auto& id : ids) {
        if (count(i, id) == 0) return false;
      }
    }
    return true;
  };
  REQUIRE(run_until(io, everyone_has_all, seconds(15)));
  run_until(io, [] { return false; }, milliseconds(500));  // late duplicates would show up now
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    REQUIRE(logs[i]->size() == ids.size());
    for (const auto& id : ids) REQUIRE(count(i, id) == 1);
  }
  casters.clear();
  nodes.clear();
  io.restart();
  io.poll();
}
