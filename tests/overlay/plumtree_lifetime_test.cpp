// SPDX-License-Identifier: Apache-2.0
// plumtree::Core message lifetime: a message carries its age, and no node caches, announces or
// delivers it once it is older than payload_cache_ttl, however often churn hands it on.
#include <catch2/catch.hpp>

#include <memory>

#include "plumtree_harness.hpp"

using namespace hypar;
using namespace hypar::plumtree;
using namespace hypar::plumtree::testing;

namespace {

Gossip aged(int origin, std::uint64_t seq, std::uint16_t hops, std::uint32_t age_ms) {
  Gossip g = gossip(origin, seq, hops);
  g.age_ms = age_ms;
  return g;
}

}  // namespace

TEST_CASE("plumtree lifetime: GOSSIP carries the message's age, grown by the time it spent here") {
  Harness h;
  for (int p : {1, 2}) h.up(p);
  const auto id = h.broadcast("fresh");
  REQUIRE(id.ok());
  REQUIRE(h.sent_to<Gossip>(1).size() == 1);
  CHECK(h.sent_to<Gossip>(1)[0].age_ms == 0);  // the origin's copy is new

  h.clear();
  h.receive(1, aged(9, 1, 3, 5'000));
  REQUIRE(h.sent_to<Gossip>(2).size() == 1);
  CHECK(h.sent_to<Gossip>(2)[0].age_ms == 5'001);  // 1 ms charged for the link it came over

  h.receive(2, Prune{});
  h.advance(seconds(2));
  h.clear();
  h.receive(2, Graft{mid(9, 1), 4});  // the resend is older by the 2 s it was cached here
  REQUIRE(h.sent_to<Gossip>(2).size() == 1);
  CHECK(h.sent_to<Gossip>(2)[0].age_ms == 7'001);
}

TEST_CASE("plumtree lifetime: the cache keeps a message until its origin's deadline, not ours") {
  Options o;
  o.payload_cache_ttl = seconds(30);
  Harness h(o);
  h.up(1);
  h.receive(1, aged(9, 1, 2, 20'000));  // already 20 s old when it arrives
  CHECK(h.core.has_cached(mid(9, 1)));

  h.advance(seconds(9));
  h.clear();
  h.up(2);  // a newcomer 29 s into the message's life is still told of it
  h.run_for(o.ihave_batch_interval);
  REQUIRE(h.sent_to<IHave>(2).size() == 1);
  CHECK(h.sent_to<IHave>(2)[0].entries.at(0).age_ms == 29'051);

  h.run_for(seconds(1));  // 30 s old: dead everywhere
  CHECK_FALSE(h.core.has_cached(mid(9, 1)));
  CHECK(h.core.has_seen(mid(9, 1)));  // but remembered, so no copy is delivered again
  h.clear();
  h.up(3);
  h.run_for(seconds(1));
  CHECK(h.sent_to<IHave>(3).empty());
  h.receive(2, Graft{mid(9, 1), 3});
  CHECK(h.count_sent<Gossip>() == 0);
}

TEST_CASE("plumtree lifetime: IHAVEs queued for a message that dies before the batch are dropped") {
  Options o;
  o.payload_cache_ttl = seconds(10);
  o.ihave_batch_interval = milliseconds(50);
  Harness h(o);
  for (int p : {1, 2}) h.up(p);
  h.receive(2, Prune{});
  h.receive(1, aged(9, 1, 1, 9'970));  // 29 ms of life left, less than the batch interval
  h.receive(1, aged(9, 2, 1, 0));
  h.run_for(milliseconds(50));
  const auto ihaves = h.sent_to<IHave>(2);
  REQUIRE(ihaves.size() == 1);
  REQUIRE(ihaves[0].entries.size() == 1);
  CHECK(ihaves[0].entries[0].id == mid(9, 2));
}

TEST_CASE("plumtree lifetime: a message older than the cache lifetime is neither delivered nor grafted") {
  Options o;
  o.payload_cache_ttl = seconds(30);
  Harness h(o);
  for (int p : {1, 2}) h.up(p);
  h.receive(1, aged(9, 1, 1, 30'000));
  CHECK(h.delivered().empty());
  CHECK_FALSE(h.core.has_seen(mid(9, 1)));
  CHECK(h.count_sent<Gossip>() == 0);
  h.receive(1, aged(9, 2, 1, 29'998));  // 1 ms left after the link charge: still alive
  CHECK(h.delivered().size() == 1);

  h.receive(2, IHave{{{mid(9, 3), 1, 30'000}}});
  CHECK(h.core.missing_count() == 0);
  CHECK(h.core.stats().expired_dropped == 2);

  // Announced alive, but dead by the time the graft timer fires: nobody is asked for it.
  h.receive(2, IHave{{{mid(9, 4), 1, 29'950}}});
  CHECK(h.core.missing_count() == 1);
  h.run_for(o.graft_timeout_1);
  CHECK(h.count_sent<Graft>() == 0);
  CHECK(h.core.missing_count() == 0);
}

TEST_CASE("plumtree lifetime: a copy still circulating after the seen TTL is not delivered again") {
  Options o;
  o.payload_cache_ttl = seconds(30);
  o.seen_ttl = seconds(90);
  Harness h(o);
  for (int p : {1, 2}) h.up(p);
  h.receive(1, aged(9, 1, 1, 100));
  REQUIRE(h.delivered().size() == 1);
  h.run_for(seconds(91));
  REQUIRE_FALSE(h.core.has_seen(mid(9, 1)));  // forgotten
  h.clear();
  // Any copy a peer could still send is as old as the time that passed.
  h.receive(2, IHave{{{mid(9, 1), 2, 91'100}}});
  h.receive(2, aged(9, 1, 2, 91'100));
  h.run_for(seconds(1));
  CHECK(h.delivered().empty());
  CHECK(h.count_sent<Graft>() == 0);
}

// Churn hands a message to newcomer after newcomer through the catch-up IHAVE: node k+1 joins
// node k 10 s after node k got the message, and grafts it. Before ages travelled, every node
// cached it for 30 s from its own delivery, so the chain never ended and the message came back
// to nodes that had forgotten it. Now it ends when the origin's 30 s are over.
TEST_CASE("plumtree lifetime: a message handed on by churn dies with its origin's deadline") {
  Options o;
  o.payload_cache_ttl = seconds(30);
  o.seen_ttl = seconds(90);
  std::vector<std::unique_ptr<Harness>> nodes;
  nodes.push_back(std::make_unique<Harness>(o, 1));
  const auto id = nodes[0]->broadcast("m");
  REQUIRE(id.ok());

  int reached = 1;
  for (int k = 0; k < 20; ++k) {
    Harness& old_node = *nodes.back();
    old_node.run_for(seconds(10));
    auto next = std::make_unique<Harness>(o, k + 2);
    next->now = old_node.now;
    const int old_index = k + 1;
    const int next_index = k + 2;
    old_node.clear();
    old_node.up(next_index);
    next->up(old_index);
    old_node.run_for(o.ihave_batch_interval);
    next->now = old_node.now;
    for (const auto& ihave : old_node.sent_to<IHave>(next_index)) next->receive(old_index, ihave);
    next->run_for(o.graft_timeout_1);
    old_node.now = next->now;
    for (const auto& graft : next->sent_to<Graft>(old_index)) old_node.receive(next_index, graft);
    for (const auto& g : old_node.sent_to<Gossip>(next_index)) next->receive(old_index, g);
    if (next->delivered().empty()) break;
    ++reached;
    nodes.push_back(std::move(next));
  }
  // Handed on at 10 s and 20 s of age; at 30 s it is dead.
  CHECK(reached == 3);
}
