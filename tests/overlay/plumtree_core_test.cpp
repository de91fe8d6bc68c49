// SPDX-License-Identifier: Apache-2.0
// plumtree::Core behaviour, one test per rule of the protocol.
#include <catch2/catch.hpp>

#include "plumtree_harness.hpp"

using namespace hypar;
using namespace hypar::plumtree;
using namespace hypar::plumtree::testing;

TEST_CASE("plumtree: new neighbours start eager and a broadcast pushes the payload to all of them") {
  Harness h;
  h.up(1);
  h.up(2);
  CHECK(h.core.eager_peers() == std::vector<Address>{addr(1), addr(2)});
  CHECK(h.core.lazy_peers().empty());

  const auto result = h.broadcast("hi");
  REQUIRE(result.ok());
  CHECK(result.id().origin == addr(0));
  for (int p : {1, 2}) {
    const auto sent = h.sent_to<Gossip>(p);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].id == result.id());
    CHECK(sent[0].hops == 1);
    CHECK(sent[0].payload == bytes("hi"));
  }
  const auto delivered = h.delivered();
  REQUIRE(delivered.size() == 1);  // the origin delivers its own message
  CHECK(delivered[0].id == result.id());
  CHECK(delivered[0].hops == 0);
  CHECK(h.count_sent<IHave>() == 0);
}

TEST_CASE("plumtree: a received payload is delivered and pushed on to eager peers but not back") {
  Harness h;
  for (int p : {1, 2, 3}) h.up(p);
  h.receive(1, gossip(9, 7, 4, "x"));
  const auto delivered = h.delivered();
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0].id == mid(9, 7));
  CHECK(delivered[0].hops == 4);
  CHECK(delivered[0].payload == bytes("x"));
  CHECK(h.sent_to<Gossip>(1).empty());
  for (int p : {2, 3}) {
    const auto sent = h.sent_to<Gossip>(p);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].hops == 5);
  }
  CHECK(h.core.is_eager(addr(1)));
}

TEST_CASE("plumtree: lazy peers get the IHAVEs of one batch interval in one message") {
  Options o;
  o.ihave_batch_interval = milliseconds(50);
  Harness h(o);
  for (int p : {1, 2}) h.up(p);
  h.receive(2, Prune{});  // 2 is lazy now
  REQUIRE(h.core.is_lazy(addr(2)));

  h.receive(1, gossip(9, 1, 1));
  h.advance(milliseconds(10));
  h.receive(1, gossip(9, 2, 3));
  CHECK(h.sent_to<Gossip>(2).empty());  // lazy: no payload
  CHECK(h.sent_to<IHave>(2).empty());   // and nothing before the batch is due

  h.run_for(milliseconds(39));  // 49 ms after the first message
  CHECK(h.sent_to<IHave>(2).empty());
  h.run_for(milliseconds(1));
  const auto ihaves = h.sent_to<IHave>(2);
  REQUIRE(ihaves.size() == 1);
  REQUIRE(ihaves[0].entries.size() == 2);
  // Ages as of the flush: received with age 0, plus 1 ms charged for the link.
  CHECK(ihaves[0].entries[0] == IHaveEntry{mid(9, 1), 2, 51});
  CHECK(ihaves[0].entries[1] == IHaveEntry{mid(9, 2), 4, 41});
  CHECK(h.sent_to<IHave>(1).empty());  // the sender is eager and gets nothing back

  h.clear();
  h.run_for(seconds(1));  // the queue is empty: no second IHAVE
  CHECK(h.count_sent<IHave>() == 0);
}

TEST_CASE("plumtree: a duplicate payload makes its link lazy and is answered with PRUNE") {
  Harness h;
  for (int p : {1, 2}) h.up(p);
  h.receive(1, gossip(9, 1, 2));
  h.clear();
  h.receive(2, gossip(9, 1, 3));
  CHECK(h.delivered().empty());
  CHECK(h.sent_to<Prune>(2).size() == 1);
  CHECK(h.core.is_lazy(addr(2)));
  CHECK(h.core.is_eager(addr(1)));
  CHECK(h.count_sent<Gossip>() == 0);
  CHECK(h.core.stats().duplicates == 1);
}

TEST_CASE("plumtree: PRUNE makes a link lazy, so later payloads go there as IHAVE only") {
  Harness h;
  for (int p : {1, 2}) h.up(p);
  h.receive(2, Prune{});
  CHECK(h.core.is_lazy(addr(2)));
  h.broadcast("m");
  CHECK(h.sent_to<Gossip>(1).size() == 1);
  CHECK(h.sent_to<Gossip>(2).empty());
  h.run_for(h.core.options().ihave_batch_interval);
  CHECK(h.sent_to<IHave>(2).size() == 1);
}

TEST_CASE("plumtree: a missing message is grafted from the first announcer, then the next") {
  Options o;
  o.graft_timeout_1 = milliseconds(80);
  o.graft_timeout_2 = milliseconds(40);
  Harness h(o);
  for (int p : {1, 2, 3}) h.up(p);
  for (int p : {1, 2, 3}) h.receive(p, Prune{});
  h.receive(2, IHave{{{mid(9, 1), 3}}});
  h.advance(milliseconds(5));
  h.receive(3, IHave{{{mid(9, 1), 2}}});
  h.receive(2, IHave{{{mid(9, 1), 3}}});  // a repeated announcement does not queue 2 twice
  CHECK(h.core.missing_count() == 1);

  h.run_for(milliseconds(74));  // 79 ms after the first IHAVE
  CHECK(h.count_sent<Graft>() == 0);
  h.run_for(milliseconds(1));
  auto grafts = h.sent_to<Graft>(2);
  REQUIRE(grafts.size() == 1);
  CHECK(grafts[0].id == mid(9, 1));
  CHECK(grafts[0].hops == 3);
  CHECK(h.core.is_eager(addr(2)));
  CHECK(h.core.is_lazy(addr(3)));

  h.clear();
  h.run_for(milliseconds(39));
  CHECK(h.count_sent<Graft>() == 0);
  h.run_for(milliseconds(1));  // the second, shorter timeout
  grafts = h.sent_to<Graft>(3);
  REQUIRE(grafts.size() == 1);
  CHECK(grafts[0].id == mid(9, 1));
  CHECK(h.core.is_eager(addr(3)));
  CHECK(h.count_sent<Graft>() == 1);

  h.clear();
  h.run_for(seconds(1));  // no announcer left
  CHECK(h.count_sent<Graft>() == 0);
  CHECK(h.core.missing_count() == 0);
}

TEST_CASE("plumtree: a payload arriving before the graft timeout makes the timer stale") {
  Harness h;
  for (int p : {1, 2}) h.up(p);
  h.receive(2, Prune{});
  h.receive(2, IHave{{{mid(9, 1), 3}}});
  h.advance(milliseconds(20));
  h.receive(1, gossip(9, 1, 2));
  CHECK(h.core.missing_count() == 0);
  h.run_for(seconds(1));
  CHECK(h.count_sent<Graft>() == 0);
  CHECK(h.delivered().size() == 1);
}

TEST_CASE("plumtree: graft timers skip announcers that are no longer neighbours") {
  Harness h;
  for (int p : {1, 2, 3}) h.up(p);
  h.receive(2, IHave{{{mid(9, 1), 3}}});
  h.receive(3, IHave{{{mid(9, 1), 3}}});
  h.down(2);
  h.run_for(h.core.options().graft_timeout_1);
  CHECK(h.sent_to<Graft>(2).empty());
  CHECK(h.sent_to<Graft>(3).size() == 1);
}

TEST_CASE("plumtree: GRAFT makes the link eager and resends the cached payload") {
  Harness h;
  for (int p : {1, 2}) h.up(p);
  h.receive(1, gossip(9, 1, 2, "payload"));
  h.receive(2, Prune{});
  h.clear();
  h.receive(2, Graft{mid(9, 1), 3});
  CHECK(h.core.is_eager(addr(2)));
  const auto sent = h.sent_to<Gossip>(2);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].id == mid(9, 1));
  CHECK(sent[0].hops == 3);
  CHECK(sent[0].payload == bytes("payload"));

  h.receive(2, Prune{});
  h.clear();
  h.receive(2, Graft{mid(9, 99), 1});  // unknown message: only the link changes
  CHECK(h.core.is_eager(addr(2)));
  CHECK(h.count_sent<Gossip>() == 0);
  h.receive(2, Prune{});
  h.receive(2, Graft{std::nullopt, 1});  // tree repair without payload
  CHECK(h.core.is_eager(addr(2)));
  CHECK(h.count_sent<Gossip>() == 0);
}

TEST_CASE("plumtree: an IHAVE over a path shorter by the threshold swaps the tree branch") {
  Options o;
  o.optimization_threshold = 3;
  Harness h(o);
  for (int p : {1, 2, 3}) h.up(p);
  h.receive(2, Prune{});
  h.receive(3, Prune{});
  h.receive(1, gossip(9, 1, 6));  // came the long way: 6 hops through 1
  h.clear();

  h.receive(3, IHave{{{mid(9, 1), 4}}});  // only 2 hops shorter: no change
  CHECK(h.count_sent<Graft>() == 0);
  CHECK(h.core.is_lazy(addr(3)));

  h.receive(2, IHave{{{mid(9, 1), 3}}});  // 3 hops shorter
  const auto grafts = h.sent_to<Graft>(2);
  REQUIRE(grafts.size() == 1);
  CHECK_FALSE(grafts[0].id.has_value());  // we have the payload: no resend wanted
  CHECK(h.sent_to<Prune>(1).size() == 1);
  CHECK(h.core.is_eager(addr(2)));
  CHECK(h.core.is_lazy(addr(1)));
  CHECK(h.core.stats().optimizations == 1);

  h.clear();
  h.receive(3, IHave{{{mid(9, 1), 1}}});  // measured against the new 3-hop path: 2 shorter
  CHECK(h.count_sent<Graft>() == 0);
}

TEST_CASE("plumtree: cached payloads and seen ids expire after their own time limits") {
  Options o;
  o.payload_cache_ttl = seconds(10);
  o.seen_ttl = seconds(30);
  o.sweep_interval = seconds(1);
  Harness h(o);
  for (int p : {1, 2}) h.up(p);
  h.receive(1, gossip(9, 1, 1));
  CHECK(h.core.has_cached(mid(9, 1)));
  CHECK(h.core.has_seen(mid(9, 1)));
  REQUIRE(h.timers(TimerKind::sweep).size() == 1);

  h.run_for(seconds(9));
  CHECK(h.core.has_cached(mid(9, 1)));
  h.run_for(seconds(1));
  CHECK_FALSE(h.core.has_cached(mid(9, 1)));
  CHECK(h.core.has_seen(mid(9, 1)));
  h.clear();
  h.receive(2, Graft{mid(9, 1), 1});  // nothing left to resend
  CHECK(h.count_sent<Gossip>() == 0);
  h.receive(2, gossip(9, 1, 1));  // still a duplicate
  CHECK(h.delivered().empty());

  h.run_for(seconds(20));
  CHECK_FALSE(h.core.has_seen(mid(9, 1)));
  CHECK(h.core.seen_count() == 0);
  h.clear();
  h.run_for(seconds(5));  // nothing left: the sweep stops rescheduling itself
  CHECK(h.timers(TimerKind::sweep).empty());
}

TEST_CASE("plumtree: a payload above max_payload_bytes is refused with an error, never dropped silently") {
  Options o;
  o.max_payload_bytes = 4;
  Harness h(o);
  h.up(1);
  const auto too_big = h.broadcast("12345");
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.error() == BroadcastError::payload_too_large);
  CHECK(h.out.empty());
  CHECK(h.broadcast("1234").ok());

  h.clear();
  h.receive(1, gossip(9, 1, 1, "12345"));  // a peer with a larger limit: not delivered
  CHECK(h.delivered().empty());
  CHECK(h.core.stats().oversized_dropped == 1);
}

TEST_CASE("plumtree: at most max_missing announced messages are tracked") {
  Options o;
  o.max_missing = 3;
  o.max_waiting_announcements = 0;  // nothing waits: the rest is ignored
  Harness h(o);
  h.up(1);
  IHave flood;
  for (std::uint64_t seq = 0; seq < 100; ++seq) flood.entries.push_back({mid(9, seq), 1});
  h.receive(1, flood);
  CHECK(h.core.missing_count() == 3);
  CHECK(h.core.stats().missing_overflow == 97);
  h.receive(1, IHave{{{mid(9, 0), 1}}});  // one already tracked: still fine
  CHECK(h.core.stats().missing_overflow == 97);
  h.run_for(o.graft_timeout_1);
  CHECK(h.count_sent<Graft>() == 3);
  CHECK(h.core.missing_count() == 0);  // given up: room again
  h.receive(1, IHave{{{mid(9, 50), 1}}});
  CHECK(h.core.missing_count() == 1);
}

// A node catching up is told of a whole cache at once (a link coming up announces every cached
// message). Announcements past max_missing wait for room instead of being forgotten: the flood
// found in chaos-slow_consumer lost tens of thousands of messages for good that way.
TEST_CASE("plumtree: announcements past max_missing wait and are grafted as room frees up") {
  Options o;
  o.max_missing = 3;
  o.max_waiting_announcements = 10;
  Harness h(o);
  h.up(1);
  h.up(2);
  IHave flood;
  for (std::uint64_t seq = 0; seq < 12; ++seq) flood.entries.push_back({mid(9, seq), 1});
  h.receive(1, flood);
  CHECK(h.core.missing_count() == 3);
  CHECK(h.core.waiting_announcements() == 9);
  CHECK(h.core.stats().missing_overflow == 0);
  h.receive(2, IHave{{{mid(9, 20), 1}, {mid(9, 21), 1}}});  // one waits, one is beyond the bound
  CHECK(h.core.waiting_announcements() == 10);
  CHECK(h.core.stats().missing_overflow == 1);
  h.receive(2, gossip(9, 3, 2));  // a waiting one arrives meanwhile: never grafted
  h.down(2);                      // and mid(9, 20) can no longer be grafted from 2
  for (int round = 0; round < 10; ++round) h.run_for(o.graft_timeout_1);  // each round's timers at their time
  // Every announcement still grafted from its announcer, max_missing at a time: 0..11 but 3.
  CHECK(h.count_sent<Graft>() == 11);
  CHECK(h.core.missing_count() == 0);
  CHECK(h.core.waiting_announcements() == 0);
}

TEST_CASE("plumtree: a message reaching a node many ways is delivered exactly once") {
  Harness h;
  for (int p : {1, 2, 3}) h.up(p);
  h.receive(2, Prune{});
  h.receive(2, IHave{{{mid(9, 1), 1}}});
  h.receive(1, gossip(9, 1, 2));
  h.receive(3, gossip(9, 1, 2));
  h.run_for(seconds(1));
  h.receive(2, gossip(9, 1, 1));  // e.g. the answer to an earlier GRAFT
  h.broadcast("another");
  CHECK(h.delivered().size() == 2);
  CHECK(h.core.stats().delivered == 2);
  CHECK(h.core.stats().duplicates == 2);
}

TEST_CASE("plumtree: neighbor_down forgets the peer and the IHAVEs queued for it") {
  Harness h;
  for (int p : {1, 2}) h.up(p);
  h.receive(2, Prune{});
  h.broadcast("m");
  h.down(2);
  CHECK_FALSE(h.core.is_neighbor(addr(2)));
  h.run_for(seconds(1));
  CHECK(h.sent_to<IHave>(2).empty());
  h.up(2);  // back: eager again
  CHECK(h.core.is_eager(addr(2)));
}

TEST_CASE("plumtree: messages from non-neighbours are delivered but change no link") {
  Harness h;
  h.up(1);
  h.receive(5, gossip(9, 1, 1));
  CHECK(h.delivered().size() == 1);
  h.receive(5, gossip(9, 1, 1));
  CHECK(h.sent_to<Prune>(5).empty());
  h.receive(5, Graft{mid(9, 1), 1});
  h.receive(5, IHave{{{mid(9, 2), 1}}});
  CHECK(h.sent_to<Gossip>(5).empty());
  CHECK_FALSE(h.core.is_neighbor(addr(5)));
  CHECK(h.core.missing_count() == 0);
}

TEST_CASE("plumtree: message ids from a sequence or from the payload's hash") {
  Harness seq;
  const auto a = seq.broadcast("same");
  const auto b = seq.broadcast("same");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(b.id().seq == a.id().seq + 1);

  Options o;
  o.id_scheme = IdScheme::content_hash;
  Harness hashed(o);
  const auto c = hashed.broadcast("same");
  REQUIRE(c.ok());
  CHECK(c.id().seq == content_hash(bytes("same")));
  const auto d = hashed.broadcast("same");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error() == BroadcastError::already_seen);
  CHECK(hashed.broadcast("other").ok());
  CHECK(content_hash(bytes("")) == 0xcbf29ce484222325ULL);  // FNV-1a offset basis
  CHECK(content_hash(bytes("a")) == 0xaf63dc4c8601ec8cULL);  // published FNV-1a 64 test vector
}

TEST_CASE("plumtree: options are validated, every problem named") {
  Options o;
  CHECK(o.validate().empty());
  o.graft_timeout_1 = Duration::zero();
  o.seen_ttl = seconds(1);
  o.payload_cache_ttl = seconds(2);
  o.max_payload_bytes = kMaxPayloadBytes + 1;
  const auto problems = o.validate();
  REQUIRE(problems.size() == 3);
  CHECK_THAT(problems[0], Catch::Contains("max_payload_bytes"));
  CHECK_THROWS_AS(Core(addr(0), o, 1), std::invalid_argument);
  try {
    Core(addr(0), o, 1);
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::Contains("graft_timeout_1") && Catch::Contains("seen_ttl"));
  }
}

TEST_CASE("plumtree: a new neighbour is told of the cached messages, and grafts what it missed") {
  Options o;
  o.ihave_batch_interval = milliseconds(50);
  Harness h(o);
  h.up(1);
  h.receive(1, gossip(9, 1, 1));
  h.receive(1, gossip(9, 2, 3));
  h.advance(seconds(1));
  h.clear();
  h.up(2);  // e.g. a node that was cut off while 9's messages went round
  CHECK(h.sent_to<IHave>(2).empty());  // batched like any other IHAVE
  h.run_for(milliseconds(50));
  const auto ihaves = h.sent_to<IHave>(2);
  REQUIRE(ihaves.size() == 1);
  REQUIRE(ihaves[0].entries.size() == 2);
  CHECK(ihaves[0].entries[0] == IHaveEntry{mid(9, 1), 2, 1051});
  CHECK(ihaves[0].entries[1] == IHaveEntry{mid(9, 2), 4, 1051});
  CHECK(h.sent_to<IHave>(1).empty());

  // Once the payloads have left the cache there is nothing to announce.
  Options short_cache = o;
  short_cache.payload_cache_ttl = milliseconds(100);
  short_cache.seen_ttl = seconds(1);
  Harness g(short_cache);
  g.up(1);
  g.receive(1, gossip(9, 1, 1));
  g.run_for(milliseconds(500));
  g.clear();
  g.up(2);
  g.run_for(milliseconds(100));
  CHECK(g.sent_to<IHave>(2).empty());
}

TEST_CASE("plumtree: a congested peer gets IHAVEs instead of payloads, and the cache once it drained") {
  Harness h;
  for (int p : {1, 2}) h.up(p);
  h.broadcast("before");
  h.clear();
  h.core.peer_congested(addr(2), h.now);
  h.drain();
  CHECK(h.core.is_lazy(addr(2)));
  CHECK(h.out.empty());  // our side only: no PRUNE
  h.broadcast("during");
  CHECK(h.sent_to<Gossip>(2).empty());
  CHECK(h.sent_to<Gossip>(1).size() == 1);
  h.run_for(h.core.options().ihave_batch_interval);
  REQUIRE(h.sent_to<IHave>(2).size() == 1);

  h.clear();
  h.core.peer_drained(addr(2), h.now);
  h.drain();
  h.run_for(h.core.options().ihave_batch_interval);
  const auto ihaves = h.sent_to<IHave>(2);
  REQUIRE(ihaves.size() == 1);
  CHECK(ihaves[0].entries.size() == 2);  // both cached messages, so it grafts what was dropped
  h.receive(2, Graft{ihaves[0].entries[0].id, 1});
  CHECK(h.core.is_eager(addr(2)));

  h.core.peer_congested(addr(7), h.now);  // not a neighbour: nothing happens
  h.core.peer_drained(addr(7), h.now);
  CHECK_FALSE(h.core.is_neighbor(addr(7)));
}
