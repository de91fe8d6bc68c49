// SPDX-License-Identifier: Apache-2.0
// The Broadcaster on whole nodes over the in-memory transport, in virtual time: exactly-once
// delivery across 20 nodes and several origins, delivery to every survivor after crashes,
// backpressure through the backlogs, errors, and determinism by seed.
#include <catch2/catch.hpp>

#include <algorithm>

#include "broadcast_cluster.hpp"
#include "hypar/frame_type.hpp"

using namespace hypar;
using namespace hypar::testing;

namespace {

// Problems with "every node in `who` delivered each id exactly once, with its payload, and
// nothing else"; empty when there are none.
std::string exactly_once_problems(const BroadcastCluster& c, const std::set<std::size_t>& who,
                                  const std::vector<plumtree::MessageId>& ids,
                                  const std::map<plumtree::MessageId, std::string>& payloads) {
  std::string problems;
  for (auto i : who) {
    std::size_t matched = 0;
    for (const auto& id : ids) {
      const std::size_t n = c.count(i, id);
      matched += n;
      if (n != 1) problems += "node " + std::to_string(i) + " delivered " + id.to_string() + " " + std::to_string(n) + " times\n";
    }
    if (matched != c.logs[i]->size()) problems += "node " + std::to_string(i) + " delivered unexpected messages\n";
    for (const auto& d : *c.logs[i]) {
      const auto it = payloads.find(plumtree::MessageId{d.delivery.origin, d.delivery.seq});
      if (it != payloads.end() && it->second != text_of(d.delivery.payload)) {
        problems += "node " + std::to_string(i) + " got a wrong payload\n";
      }
    }
  }
  return problems;
}

struct Sent {
  std::vector<plumtree::MessageId> ids;
  std::map<plumtree::MessageId, std::string> payloads;

  void broadcast(BroadcastCluster& c, std::size_t origin, const std::string& text) {
    const BroadcastResult r = c.casters[origin]->broadcast(bytes_of(text));
    REQUIRE(r.ok());
    ids.push_back(r.id());
    payloads[r.id()] = text;
  }
};

BroadcastCluster& settled_cluster(BroadcastCluster& c, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) c.add();
  REQUIRE(c.join_all_through(0));
  c.run_for(seconds(5));  // the joins' random walks and first shuffles settle
  return c;
}

}  // namespace

TEST_CASE("broadcast: 20 nodes, 50 broadcasts from 5 origins, every node delivers each exactly once") {
  BroadcastCluster c;
  settled_cluster(c, 20);
  Sent sent;
  const std::size_t origins[] = {0, 4, 9, 13, 19};
  for (int k = 0; k < 50; ++k) {
    sent.broadcast(c, origins[k % 5], "message " + std::to_string(k));
    c.run_for(milliseconds(k % 3 == 0 ? 0 : 7));  // some in bursts, some spread out
  }
  REQUIRE(c.run_until([&] { return c.all_delivered(c.all(), sent.ids); }, seconds(10)));
  c.run_for(seconds(5));  // late duplicates would show up now
  const std::string problems = exactly_once_problems(c, c.all(), sent.ids, sent.payloads);
  INFO(problems);
  REQUIRE(problems.empty());
  for (std::size_t i = 0; i < c.nodes.size(); ++i) {
    for (const auto& d : *c.logs[i]) REQUIRE((d.delivery.hops == 0) == (d.delivery.origin == c.addr(i)));
  }

  // Duplicates prune the eager links into a tree: a little while on, a broadcast (from anywhere)
  // costs one payload message per node it reaches, plus the few links still to be pruned.
  std::vector<std::uint64_t> costs;
  for (std::size_t origin : {7u, 2u, 15u, 7u, 11u, 3u}) {
    std::uint64_t before = 0, after = 0;
    for (const auto& b : c.casters) before += b->core_stats().payload_sent;
    sent.broadcast(c, origin, "after the tree settled " + std::to_string(costs.size()));
    REQUIRE(c.run_until([&] { return c.all_delivered(c.all(), sent.ids); }, seconds(10)));
    c.run_for(seconds(1));
    for (const auto& b : c.casters) after += b->core_stats().payload_sent;
    costs.push_back(after - before);
  }
  std::string listed;
  for (auto cost : costs) listed += std::to_string(cost) + " ";
  INFO("payload messages per broadcast: " << listed);
  for (auto cost : costs) REQUIRE(cost >= c.nodes.size() - 1);
  REQUIRE(costs.back() == c.nodes.size() - 1);  // a spanning tree
  REQUIRE(exactly_once_problems(c, c.all(), sent.ids, sent.payloads).empty());
}

TEST_CASE("broadcast: after 3 of 20 nodes crash, every survivor delivers new broadcasts exactly once") {
  BroadcastCluster c;
  settled_cluster(c, 20);
  Sent before;
  for (int k = 0; k < 10; ++k) before.broadcast(c, static_cast<std::size_t>(k % 2 == 0 ? 2 : 11), "before " + std::to_string(k));
  REQUIRE(c.run_until([&] { return c.all_delivered(c.all(), before.ids); }, seconds(10)));

  std::set<std::size_t> survivors = c.all();
  for (std::size_t i : {5u, 8u, 16u}) {
    c.net->kill(c.addr(i));
    survivors.erase(i);
  }
  // Right away, before anyone noticed: pushes to the dead nodes are lost, and the lazy links'
  // IHAVEs and GRAFTs repair the tree while HyParView replaces the dead neighbours.
  Sent after;
  for (int k = 0; k < 20; ++k) {
    after.broadcast(c, static_cast<std::size_t>(k % 2 == 0 ? 0 : 12), "after " + std::to_string(k));
    c.run_for(milliseconds(20));
  }
  REQUIRE(c.run_until([&] { return c.all_delivered(survivors, after.ids); }, seconds(30)));
  c.run_for(seconds(5));
  std::vector<plumtree::MessageId> all_ids = before.ids;
  all_ids.insert(all_ids.end(), after.ids.begin(), after.ids.end());
  auto payloads = before.payloads;
  payloads.insert(after.payloads.begin(), after.payloads.end());
  const std::string problems = exactly_once_problems(c, survivors, all_ids, payloads);
  INFO(problems);
  REQUIRE(problems.empty());
}

TEST_CASE("broadcast: a burst larger than the node's send queues goes through the backlogs, exactly once") {
  BroadcastCluster c;
  for (int i = 0; i < 6; ++i) c.add([](NodeConfig& n, BroadcasterConfig&) { n.send_queue_limit = 4; });
  REQUIRE(c.join_all_through(0));
  c.run_for(seconds(2));
  Sent sent;
  for (int k = 0; k < 200; ++k) sent.broadcast(c, 1, "burst " + std::to_string(k));  // no time passes
  REQUIRE(c.casters[1]->backlog_size() > 0);
  REQUIRE(c.run_until([&] { return c.all_delivered(c.all(), sent.ids); }, seconds(10)));
  c.run_for(seconds(2));
  const std::string problems = exactly_once_problems(c, c.all(), sent.ids, sent.payloads);
  INFO(problems);
  REQUIRE(problems.empty());
  REQUIRE(c.casters[1]->stats().backlogged > 0);
  REQUIRE(c.casters[1]->stats().backlog_dropped == 0);
  REQUIRE(c.casters[1]->backlog_size() == 0);
}

TEST_CASE("broadcast: a payload above the limit is refused and nothing is sent") {
  BroadcastCluster c;
  for (int i = 0; i < 3; ++i) c.add([](NodeConfig&, BroadcasterConfig& b) { b.options.max_payload_bytes = 1000; });
  REQUIRE(c.join_all_through(0));
  c.run_for(seconds(1));
  const BroadcastResult too_large = c.casters[0]->broadcast(std::vector<std::uint8_t>(1001, 'x'));
  REQUIRE_FALSE(too_large.ok());
  REQUIRE(too_large.error() == BroadcastError::payload_too_large);
  REQUIRE(std::string(describe(too_large.error())).find("larger") != std::string::npos);
  const BroadcastResult at_limit = c.casters[0]->broadcast(std::vector<std::uint8_t>(1000, 'y'));
  REQUIRE(at_limit.ok());
  REQUIRE(c.run_until([&] { return c.all_delivered(c.all(), {at_limit.id()}); }, seconds(5)));
  c.run_for(seconds(1));
  for (const auto& log : c.logs) REQUIRE(log->size() == 1);  // only the one at the limit
}

TEST_CASE("broadcast: options the node's messages cannot carry are refused at construction") {
  VirtualClock clock;
  asio::io_context io;
  auto net = transport::MemNetwork::create(io.get_executor());
  NodeConfig n;
  n.listen = Address::v4(10, 0, 0, 1, 0);
  n.max_frame_size = 64 * 1024;
  n.make_transport = [net](const asio::any_io_executor&) { return net->transport(); };
  Node node(io, n);
  BroadcasterConfig b;
  b.options.max_payload_bytes = 64 * 1024;  // plus Plumtree's header: more than a frame holds
  REQUIRE_THROWS_AS(Broadcaster(node, b), std::invalid_argument);
  b.options.max_payload_bytes = 60 * 1024;
  REQUIRE_NOTHROW(Broadcaster(node, b));
  b.options.graft_timeout_1 = Duration::zero();  // invalid Plumtree options
  REQUIRE_THROWS_AS(Broadcaster(node, b), std::invalid_argument);
}

TEST_CASE("broadcast: other messages are forwarded or dropped, malformed Plumtree ones ignored") {
  BroadcastCluster c;
  const auto forwarding = c.add([](NodeConfig&, BroadcasterConfig& b) { b.forward_node_events = true; });
  const auto plain = c.add();
  REQUIRE(c.join_all_through(0));
  REQUIRE(c.run_until([&] { return has_peer(*c.nodes[plain], c.addr(forwarding)); }, seconds(5)));

  // The forwarding node hands on its LinkUp and a non-Plumtree message, in node order.
  std::vector<Event> forwarded;
  asio::co_spawn(c.io, [&]() -> asio::awaitable<void> {
    for (;;) {
      std::optional<Event> e = co_await c.casters[forwarding]->next_event();
      if (!e) co_return;
      forwarded.push_back(std::move(*e));
    }
  }, [](std::exception_ptr) {});
  const std::vector<std::uint8_t> hello{'h', 'i'};
  REQUIRE(c.nodes[plain]->try_send(c.addr(forwarding), hello) == SendResult::ok);
  REQUIRE(c.nodes[forwarding]->try_send(c.addr(plain), hello) == SendResult::ok);
  // A truncated GOSSIP and an unknown type in the Plumtree range: logged and ignored.
  const std::vector<std::uint8_t> truncated{frame_type::kPlumtreeGossip, 4, 127};
  const std::vector<std::uint8_t> reserved{frame_type::kPlumtreeLast};
  REQUIRE(c.nodes[forwarding]->try_send(c.addr(plain), truncated) == SendResult::ok);
  REQUIRE(c.nodes[forwarding]->try_send(c.addr(plain), reserved) == SendResult::ok);
  REQUIRE(c.run_until([&] { return forwarded.size() >= 2 && c.casters[plain]->stats().decode_errors == 2; },
                      seconds(5)));
  REQUIRE(std::holds_alternative<LinkUp>(forwarded[0]));
  REQUIRE(std::get<Received>(forwarded[1]).bytes == hello);
  REQUIRE(c.casters[plain]->stats().foreign_dropped == 1);
  REQUIRE(c.casters[forwarding]->stats().foreign_dropped == 0);

  // Both still broadcast normally; Plumtree's own messages are never forwarded.
  const BroadcastResult r = c.casters[plain]->broadcast(bytes_of("still working"));
  REQUIRE(r.ok());
  REQUIRE(c.run_until([&] { return c.all_delivered(c.all(), {r.id()}); }, seconds(5)));
  c.run_for(seconds(1));
  REQUIRE(forwarded.size() == 2);
}

TEST_CASE("broadcast: stop() and the node's leave end the broadcaster, and destruction leaves nothing running") {
  BroadcastCluster c;
  for (int i = 0; i < 3; ++i) c.add();
  REQUIRE(c.join_all_through(0));
  c.run_for(seconds(1));

  const BroadcastResult first = c.casters[0]->broadcast(bytes_of("one"));
  REQUIRE(first.ok());
  c.casters[0]->stop();
  REQUIRE(c.casters[0]->stopped());
  REQUIRE(c.casters[0]->broadcast(bytes_of("two")).error() == BroadcastError::stopped);
  c.run_for(seconds(1));
  // The local delivery queued before stop() still drained; the others got the message too.
  REQUIRE(c.logs[0]->size() == 1);
  REQUIRE(c.run_until([&] { return c.all_delivered({1, 2}, {first.id()}); }, seconds(5)));

  // A node that leaves stops its broadcaster.
  asio::co_spawn(c.io, c.nodes[1]->leave(), asio::detached);
  REQUIRE(c.run_until([&] { return c.casters[1]->stopped(); }, seconds(5)));
  REQUIRE(c.casters[1]->broadcast(bytes_of("three")).error() == BroadcastError::stopped);

  c.casters.clear();
  c.nodes.clear();
  // Bytes still in flight in the mem network (1 ms delay) arrive; a task of a broadcaster or a
  // node left running would still wait on a timer (its loop re-arms, at the latest at the end
  // of time).
  c.run_for(seconds(1));
  REQUIRE(c.clock.pending_waits() == 0);
}

TEST_CASE("broadcast: destroying a broadcaster cancels its tasks while its node runs on") {
  VirtualClock clock;
  asio::io_context io;
  auto net = transport::MemNetwork::create(io.get_executor());
  NodeConfig n;
  n.listen = Address::v4(10, 0, 0, 1, 0);
  n.make_transport = [net](const asio::any_io_executor&) { return net->transport(); };
  Node node(io, n);
  clock.run_for(io, milliseconds(10));
  const std::size_t node_waits = clock.pending_waits();
  auto caster = std::make_unique<Broadcaster>(node, BroadcasterConfig{});
  REQUIRE(caster->broadcast({1, 2, 3}).ok());  // schedules the core's sweep timer
  clock.run_for(io, milliseconds(10));
  REQUIRE(clock.pending_waits() == node_waits + 1);  // the broadcaster's one timer
  caster.reset();
  clock.run_for(io, milliseconds(0));
  REQUIRE(clock.pending_waits() == node_waits);
}

namespace {

// Every delivery of every node with its virtual time and hop count: a run's fingerprint.
std::vector<std::string> fingerprint_run() {
  BroadcastCluster c;
  for (int i = 0; i < 12; ++i) c.add();
  if (!c.join_all_through(0)) return {"join failed"};
  c.run_for(seconds(3));
  for (int k = 0; k < 30; ++k) {
    (void)c.casters[static_cast<std::size_t>(k % 4) * 3]->broadcast(bytes_of("m" + std::to_string(k)));
    c.run_for(milliseconds(k % 2 ? 3 : 0));
  }
  c.net->kill(c.addr(5));
  for (int k = 0; k < 10; ++k) {
    (void)c.casters[1]->broadcast(bytes_of("late" + std::to_string(k)));
    c.run_for(milliseconds(15));
  }
  c.run_for(seconds(10));
  std::vector<std::string> trace;
  for (std::size_t i = 0; i < c.nodes.size(); ++i) {
    for (const auto& d : *c.logs[i]) {
      const auto us = std::chrono::duration_cast<microseconds>(d.at.time_since_epoch()).count();
      trace.push_back(std::to_string(us) + " n" + std::to_string(i) + " " + d.delivery.origin.to_string() + "/" +
                      std::to_string(d.delivery.seq) + " hops " + std::to_string(d.delivery.hops) + " " +
                      text_of(d.delivery.payload));
    }
    trace.push_back("n" + std::to_string(i) + " payload_sent " + std::to_string(c.casters[i]->core_stats().payload_sent));
  }
  return trace;
}

}  // namespace

TEST_CASE("broadcast: in virtual time, the same seeds give the same deliveries, hop for hop") {
  const auto first = fingerprint_run();
  const auto second = fingerprint_run();
  REQUIRE(first.size() > 12 * 30);
  REQUIRE(first == second);
}
