#pragma once
// Whole nodes with a Broadcaster each, on the in-memory transport in virtual time: the real node
// runtime, the real Plumtree core and codec, deterministic by seed. Every delivery is recorded
// with its virtual time, so tests can check exactly-once delivery and compare runs.
#include <asio.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../node/node_test_support.hpp"
#include "hypar/broadcast/broadcaster.hpp"
#include "hypar/runtime/clock.hpp"
#include "hypar/transport/mem.hpp"

namespace hypar::testing {

struct Delivered {
  Instant at;
  Delivery delivery;
};

inline std::vector<std::uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }
inline std::string text_of(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// Records every delivery of `caster` until it stops.
inline void collect_deliveries(asio::io_context& io, Broadcaster& caster, std::shared_ptr<std::vector<Delivered>> log) {
  asio::co_spawn(
      io,
      [&caster, log]() -> asio::awaitable<void> {
        for (;;) {
          std::optional<Delivery> d = co_await caster.next_delivery();
          if (!d) co_return;
          log->push_back(Delivered{Clock::now(), std::move(*d)});
        }
      },
      [](std::exception_ptr) {});
}

struct BroadcastCluster {
  VirtualClock clock;  // first member: installed before, and removed after, everything else
  asio::io_context io;
  std::shared_ptr<transport::MemNetwork> net = transport::MemNetwork::create(io.get_executor(), milliseconds(1));
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::unique_ptr<Broadcaster>> casters;  // destroyed before the nodes
  std::vector<std::shared_ptr<std::vector<Delivered>>> logs;

  // Adds a node and its broadcaster. `tune` may change either configuration first.
  std::size_t add(const std::function<void(NodeConfig&, BroadcasterConfig&)>& tune = {}) {
    const std::size_t i = nodes.size();
    NodeConfig c;
    c.listen = Address::v4(10, 0, 0, 1, 0);  // port 0: the mem network assigns one
    c.name = "b" + std::to_string(i);
    c.seed = i + 1;
    c.make_transport = [net = net](const asio::any_io_executor&) { return net->transport(); };
    BroadcasterConfig b;
    b.seed = 1000 + i;
    if (tune) tune(c, b);
    nodes.push_back(std::make_unique<Node>(io, c));
    casters.push_back(std::make_unique<Broadcaster>(*nodes.back(), b));
    logs.push_back(std::make_shared<std::vector<Delivered>>());
    collect_deliveries(io, *casters.back(), logs.back());
    return i;
  }
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

  // How many times node `i` delivered the message (origin, seq).
  std::size_t count(std::size_t i, const plumtree::MessageId& id) const {
    std::size_t n = 0;
    for (const auto& d : *logs[i]) n += d.delivery.origin == id.origin && d.delivery.seq == id.seq ? 1 : 0;
    return n;
  }
  // Every node in `who` delivered every id in `ids` at least once.
  bool all_delivered(const std::set<std::size_t>& who, const std::vector<plumtree::MessageId>& ids) const {
    for (auto i : who) {
      for (const auto& id : ids) {
        if (count(i, id) == 0) return false;
      }
    }
    return true;
  }
  std::set<std::size_t> all() const {
    std::set<std::size_t> s;
    for (std::size_t i = 0; i < nodes.size(); ++i) s.insert(i);
    return s;
  }
};

}  // namespace hypar::testing
