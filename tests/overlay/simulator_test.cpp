// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <vector>

#include "hypar/sim/graph_metrics.hpp"
#include "hypar/sim/scenarios.hpp"
#include "sim_test_helpers.hpp"

using namespace hypar;
using hyparview::Message;
using hyparview::ShuffleReply;
using sim::InputEvent;
using sim::InputKind;
using sim::Simulator;
using sim::testing::numbered;
using sim::testing::quiet_config;

namespace {

// What one node saw from one peer: link events and the ids of ShuffleReply messages.
struct Seen {
  InputKind kind;
  std::uint32_t id = 0;
  Instant at{};
};

std::vector<std::vector<std::size_t>> all_active(const Simulator& s) {
  std::vector<std::vector<std::size_t>> views;
  for (std::size_t i = 0; i < s.size(); ++i) views.push_back(s.active_view(i));
  return views;
}

std::vector<std::vector<std::size_t>> all_passive(const Simulator& s) {
  std::vector<std::vector<std::size_t>> views;
  for (std::size_t i = 0; i < s.size(); ++i) views.push_back(s.passive_view(i));
  return views;
}

}  // namespace

TEST_CASE("link: the acceptor sees link_up first, then every message in order") {
  Simulator s(quiet_config(1));
  s.add_node();
  s.add_node();
  std::vector<Seen> at1;
  std::vector<Seen> at0;
  std::vector<Seen>* sinks[2] = {&at0, &at1};
  s.on_input([&](const InputEvent& e) {
    if (e.peer != 1 - e.node) return;
    std::uint32_t id = 0;
    if (e.message) {
      if (const auto* r = std::get_if<ShuffleReply>(e.message)) id = r->id;
    }
    sinks[e.node]->push_back(Seen{e.kind, id, e.at});
  });
  s.inject(0, hyparview::Connect{s.address_of(1)});
  for (std::uint32_t id = 1; id <= 50; ++id) s.inject(0, numbered(s, 1, id));  // queued while opening
  REQUIRE(s.run_for(seconds(1)));

  REQUIRE(at1.size() == 51);
  CHECK(at1[0].kind == InputKind::link_up);
  for (std::uint32_t id = 1; id <= 50; ++id) {
    CHECK(at1[id].kind == InputKind::received);
    CHECK(at1[id].id == id);  // FIFO although each message draws its own latency
  }
  REQUIRE(at0.size() == 1);
  CHECK(at0[0].kind == InputKind::link_up);
  CHECK(at0[0].at > at1[0].at);  // the initiator hears back one latency after the acceptor
  CHECK(s.open_links() == 1);
  CHECK(s.anomalies() == 0);
}

TEST_CASE("link: Close flushes what was queued, then the peer gets link_down and the closer nothing") {
  Simulator s(quiet_config(2));
  s.add_node();
  s.add_node();
  std::vector<Seen> at0, at1;
  s.on_input([&](const InputEvent& e) {
    if (e.kind == InputKind::timer) return;
    (e.node == 0 ? at0 : at1).push_back(Seen{e.kind, 0, e.at});
    if (e.message) {
      if (const auto* r = std::get_if<ShuffleReply>(e.message)) (e.node == 0 ? at0 : at1).back().id = r->id;
    }
  });
  s.inject(0, hyparview::Connect{s.address_of(1)});
  for (std::uint32_t id = 1; id <= 5; ++id) s.inject(0, numbered(s, 1, id));
  s.inject(0, hyparview::Close{s.address_of(1)});
  s.inject(0, numbered(s, 1, 99));  // after Close: no link, dropped
  REQUIRE(s.run_for(seconds(1)));

  REQUIRE(at1.size() == 7);
  CHECK(at1[0].kind == InputKind::link_up);
  for (std::uint32_t id = 1; id <= 5; ++id) CHECK(at1[id].id == id);
  CHECK(at1[6].kind == InputKind::link_down);
  CHECK(at0.empty());  // closed before the handshake finished: no link_up, and never link_down
  CHECK(s.open_links() == 0);

  SECTION("closing an established link: the peer's queued messages still arrive first") {
    at0.clear();
    at1.clear();
    s.inject(1, hyparview::Connect{s.address_of(0)});
    REQUIRE(s.run_for(milliseconds(100)));
    REQUIRE(at1.size() == 1);  // link_up at the initiator
    for (std::uint32_t id = 1; id <= 3; ++id) s.inject(1, numbered(s, 0, id));
    s.inject(1, hyparview::Close{s.address_of(0)});
    REQUIRE(s.run_for(seconds(1)));
    REQUIRE(at0.size() == 5);
    CHECK(at0.front().kind == InputKind::link_up);
    CHECK(at0[3].id == 3);
    CHECK(at0.back().kind == InputKind::link_down);
    CHECK(at1.size() == 1);
  }
}

TEST_CASE("link: connecting to a dead node or an unknown address fails after the connect delay") {
  sim::Config config = quiet_config(3);
  config.connect_fail_delay = milliseconds(200);
  Simulator s(config);
  s.add_node();
  s.add_node();
  s.kill(1);
  std::vector<InputEvent> seen;
  s.on_input([&](const InputEvent& e) {
    if (e.node == 0 && e.kind != InputKind::timer) seen.push_back(e);
  });
  s.inject(0, hyparview::Connect{s.address_of(1)});
  s.inject(0, numbered(s, 1, 1));
  s.inject(0, hyparview::Connect{*Address::parse("10.0.0.1:7000")});
  REQUIRE(s.run_for(milliseconds(150)));
  CHECK(seen.empty());  // not before the delay
  REQUIRE(s.run_for(seconds(1)));
  REQUIRE(seen.size() == 2);
  for (const auto& e : seen) CHECK(e.kind == InputKind::connect_failed);
  std::set<std::size_t> peers{seen[0].peer, seen[1].peer};
  CHECK(peers == std::set<std::size_t>{1, InputEvent::kNoNode});
  CHECK(s.open_links() == 0);
}

TEST_CASE("link: two nodes connecting to each other share one link") {
  Simulator s(quiet_config(4));
  s.add_node();
  s.add_node();
  std::vector<InputEvent> seen[2];
  s.on_input([&](const InputEvent& e) {
    if (e.kind != InputKind::timer) seen[e.node].push_back(e);
  });
  s.inject(0, hyparview::Connect{s.address_of(1)});
  s.inject(1, hyparview::Connect{s.address_of(0)});
  s.inject(0, numbered(s, 1, 10));
  s.inject(1, numbered(s, 0, 20));
  REQUIRE(s.run_for(seconds(1)));
  for (std::size_t n = 0; n < 2; ++n) {
    REQUIRE(seen[n].size() == 2);
    CHECK(seen[n][0].kind == InputKind::link_up);
    CHECK(seen[n][1].kind == InputKind::received);
  }
  CHECK(s.open_links() == 1);
  CHECK(s.anomalies() == 0);
}

TEST_CASE("link: a crash reaches the peer as link_down one latency later") {
  Simulator s(quiet_config(5));
  s.add_node();
  s.add_node();
  s.inject(0, hyparview::Connect{s.address_of(1)});
  REQUIRE(s.run_for(milliseconds(100)));
  std::vector<InputEvent> seen;
  s.on_input([&](const InputEvent& e) {
    if (e.kind != InputKind::timer) seen.push_back(e);
  });
  const Instant killed = s.now();
  s.kill(1);
  REQUIRE(s.run_for(seconds(1)));
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].node == 0);
  CHECK(seen[0].kind == InputKind::link_down);
  CHECK(seen[0].at - killed >= milliseconds(1));
  CHECK(seen[0].at - killed <= milliseconds(10));
  CHECK(s.open_links() == 0);
}

TEST_CASE("cluster: 50 nodes converge to a connected, symmetric overlay") {
  const sim::Config config = quiet_config(11);
  Simulator s(config);
  // The views are checked once the join swaps are over (a swap in flight holds a spare).
  REQUIRE(sim::build_overlay(s, 50, std::max<std::uint64_t>(10, sim::join_swap_rounds(config.options)),
                             milliseconds(10)));
  const sim::GraphMetrics m = sim::analyze(s.views());
  CHECK(m.connected);
  CHECK(m.symmetric);
  CHECK(s.total_counters().join_succeeded == 49);
  // HyParView does not promise full active views: a node whose passive peers are all full is
  // refused (low priority) until shuffles bring it another short node. Seed 11 leaves 2 at 3.
  std::size_t full = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    INFO("node " << i);
    CHECK(s.active_view(i).size() >= 3);
    if (s.active_view(i).size() == 5) ++full;
    CHECK(s.passive_view(i).size() == 30);
  }
  CHECK(full >= 45);
  CHECK(s.anomalies() == 0);
}

TEST_CASE("cluster: killed nodes leave the survivors' active views, which stay connected") {
  sim::Config config;  // keepalive on (default options)
  config.seed = 12;
  Simulator s(config);
  REQUIRE(sim::build_overlay(s, 100, 10, milliseconds(10)));
  std::set<std::size_t> dead;
  for (std::size_t i = 3; i < 100; i += 5) dead.insert(i);  // 20 nodes, node 0 survives
  for (std::size_t i : dead) s.kill(i);
  REQUIRE(s.run_for(seconds(60)));
  std::size_t full = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (dead.count(i)) continue;
    INFO("node " << i);
    for (std::size_t peer : s.active_view(i)) CHECK(dead.count(peer) == 0);
    CHECK(!s.active_view(i).empty());
    if (s.active_view(i).size() >= 4) ++full;
  }
  CHECK(full >= 75);
  const sim::GraphMetrics m = sim::analyze(s.views());
  CHECK(m.live_nodes == 80);
  CHECK(m.connected);
  CHECK(m.symmetric);
  CHECK(s.anomalies() == 0);
}

TEST_CASE("cluster: a graceful leave removes the node from its peers at once") {
  Simulator s(quiet_config(13));
  REQUIRE(sim::build_overlay(s, 30, 5, milliseconds(10)));
  const std::vector<std::size_t> peers = s.active_view(7);
  REQUIRE(!peers.empty());
  s.leave(7);
  REQUIRE(s.run_for(milliseconds(200)));  // a few latencies: no timeout involved
  for (std::size_t p : peers) {
    const auto view = s.active_view(p);
    CHECK(std::find(view.begin(), view.end(), 7) == view.end());
  }
  CHECK(sim::analyze(s.views()).connected);
}

// The acceptance test: the paper's setting scaled to 1,000 nodes (hypar-sim graph conditions).
TEST_CASE("acceptance: 1,000 nodes after 50 rounds, deterministic by seed") {
  struct Result {
    sim::GraphMetrics metrics;
    std::vector<std::vector<std::size_t>> active, passive;
    std::uint64_t trace = 0;
    std::uint64_t events = 0;
  };
  const auto run = [](std::uint64_t seed) {
    Simulator s(quiet_config(seed));
    REQUIRE(sim::build_overlay(s, 1000, 50, milliseconds(10)));
    CHECK(s.anomalies() == 0);
    return Result{sim::analyze(s.views()), all_active(s), all_passive(s), s.trace_hash(), s.events_processed()};
  };
  const Result a = run(42);
  const std::size_t active_size = hyparview::Options{}.active_size;
  const std::size_t passive_size = hyparview::Options{}.passive_size;

  CHECK(a.metrics.live_nodes == 1000);
  CHECK(a.metrics.connected);
  CHECK(a.metrics.symmetric);
  for (const auto& [size, count] : a.metrics.active_size) {
    INFO("active size " << size << " x " << count);
    CHECK(size >= active_size - 1);
    CHECK(size <= active_size);
  }
  for (const auto& [size, count] : a.metrics.passive_size) {
    INFO("passive size " << size << " x " << count);
    CHECK(size == passive_size);
  }

  const Result b = run(42);
  CHECK(b.trace == a.trace);
  CHECK(b.events == a.events);
  CHECK(b.metrics == a.metrics);
  CHECK(b.active == a.active);
  CHECK(b.passive == a.passive);

  const Result c = run(43);
  CHECK(c.trace != a.trace);
  CHECK(c.active != a.active);
}
