// SPDX-License-Identifier: Apache-2.0
#pragma once
// Whole nodes on the in-memory network, in virtual time: the real node runtime and core over
// transport::MemNetwork (with its fault injection), deterministic by seed. The scaffolding of
// node_mem_test.cpp and of the broadcast tests (tests/broadcast/broadcast_cluster.hpp).
#include <asio.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hypar/runtime/clock.hpp"
#include "hypar/transport/mem.hpp"
#include "node_test_support.hpp"

namespace hypar::testing {

struct MemCluster {
  VirtualClock clock;  // first member: installed before, and removed after, everything else
  asio::io_context io;
  std::shared_ptr<transport::MemNetwork> net;
  std::vector<std::unique_ptr<Node>> nodes;
  bool fast_timers = false;  // fast_config()'s short timers instead of the protocol defaults

  explicit MemCluster(Duration link_delay = milliseconds(1), bool fast = false)
      : net(transport::MemNetwork::create(io.get_executor(), link_delay)), fast_timers(fast) {}

  // The configuration of the next node: on this network (the port is assigned by it), named
  // `name`, seeded with its index + 1.
  NodeConfig config(const std::string& name) const {
    NodeConfig c = fast_timers ? fast_config(name) : NodeConfig{};
    c.listen = Address::v4(10, 0, 0, 1, 0);  // port 0: the mem network assigns one
    c.name = name;
    c.seed = nodes.size() + 1;
    c.make_transport = [net = net](const asio::any_io_executor&) { return net->transport(); };
    return c;
  }
  Node& add(const NodeConfig& c) {
    nodes.push_back(std::make_unique<Node>(io, c));
    return *nodes.back();
  }
  Node& add(const std::string& name) { return add(config(name)); }

  Address addr(std::size_t i) const { return nodes[i]->id().address; }
  bool run_until(const std::function<bool()>& done, Duration timeout) { return clock.run_until(io, done, timeout); }
  void run_for(Duration duration) { clock.run_for(io, duration); }

  // Every node but `contact` joins through it, one after the other.
  bool join_all_through(std::size_t contact) {
    std::vector<std::optional<bool>> joined(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (i == contact) continue;
      asio::co_spawn(io, join_into(*nodes[i], {addr(contact)}, &joined[i]), asio::detached);
      run_for(milliseconds(10));
    }
    return run_until([&] {
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (i != contact && joined[i] != true) return false;
      }
      return true;
    }, seconds(5));
  }

  // The active views of the given nodes.
  test::ViewGraph<Address> graph(const std::set<std::size_t>& members) const {
    test::ViewGraph<Address> g;
    for (auto i : members) {
      std::vector<Address> peers;
      for (const auto& p : nodes[i]->peers()) peers.push_back(p.address);
      g.add(addr(i), peers);
    }
    return g;
  }

  // Over the given live nodes: every node has a neighbour, every link is to a live node and
  // known to both ends, and the whole is one component.
  bool healthy(const std::set<std::size_t>& live) const {
    const auto g = graph(live);
    return g.min_degree() > 0 && g.closed() && g.symmetric() && g.connected();
  }

  std::set<std::size_t> all() const {
    std::set<std::size_t> s;
    for (std::size_t i = 0; i < nodes.size(); ++i) s.insert(i);
    return s;
  }
};

}  // namespace hypar::testing
