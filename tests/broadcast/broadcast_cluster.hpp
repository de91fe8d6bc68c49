// SPDX-License-Identifier: Apache-2.0
#pragma once
// Whole nodes with a Broadcaster each, on the in-memory transport in virtual time (MemCluster):
// the real node runtime, the real Plumtree core and codec, deterministic by seed. Every delivery
// is recorded with its virtual time, so tests can check exactly-once delivery and compare runs.
#include <asio.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../node/mem_cluster.hpp"
#include "hypar/broadcast/broadcaster.hpp"
#include "hypar/runtime/clock.hpp"

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

struct BroadcastCluster : MemCluster {
  std::vector<std::unique_ptr<Broadcaster>> casters;  // destroyed before the nodes (MemCluster's)
  std::vector<std::shared_ptr<std::vector<Delivered>>> logs;

  // Adds a node ("b<index>") and its broadcaster. `tune` may change either configuration first.
  std::size_t add(const std::function<void(NodeConfig&, BroadcasterConfig&)>& tune = {}) {
    const std::size_t i = nodes.size();
    NodeConfig c = config("b" + std::to_string(i));
    BroadcasterConfig b;
    b.seed = 1000 + i;
    if (tune) tune(c, b);
    MemCluster::add(c);
    casters.push_back(std::make_unique<Broadcaster>(*nodes.back(), b));
    logs.push_back(std::make_shared<std::vector<Delivered>>());
    collect_deliveries(io, *casters.back(), logs.back());
    return i;
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
};

}  // namespace hypar::testing
