// SPDX-License-Identifier: Apache-2.0
// JOIN and FORWARD_JOIN handling, join outcomes and re-joining with backoff.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace hypar;
using namespace hypar::hyparview;
using namespace hypar::hyparview::testing;

TEST_CASE("join connects to the contact, sends JOIN, and succeeds on link_up") {
  Harness h;
  const PeerId contact = peer(1);
  h.join({contact.address});
  REQUIRE(h.connected(contact));
  REQUIRE(h.sent_to<Join>(contact).size() == 1);
  REQUIRE_FALSE(h.active(contact));

  h.clear();
  h.link_up(contact);
  REQUIRE(h.active(contact));
  REQUIRE(h.ups().size() == 1);
  REQUIRE(h.all<JoinSucceeded>().size() == 1);
  REQUIRE(h.all<JoinSucceeded>()[0].contact == contact);
}

TEST_CASE("join tries contacts in order and reports could-not-connect when none answers") {
  Harness h;
  const PeerId a = peer(1), b = peer(2);
  h.join({a.address, b.address});
  REQUIRE(h.connected(a));
  REQUIRE_FALSE(h.connected(b));

  h.connect_failed(a);
  REQUIRE(h.connected(b));
  REQUIRE(h.all<JoinFailed>().empty());

  h.clear();
  h.connect_failed(b);
  const auto failed = h.all<JoinFailed>();
  REQUIRE(failed.size() == 1);
  REQUIRE(failed[0].contacts == std::vector<Address>{a.address, b.address});
  // Isolated: a re-join is scheduled after the minimum backoff.
  const auto rejoin = h.timers(TimerKind::rejoin);
  REQUIRE(rejoin.size() == 1);
  REQUIRE(rejoin[0].at == h.now + h.core.options().join_retry_min);
}

TEST_CASE("join succeeds through the second contact when the first fails") {
  Harness h;
  const PeerId a = peer(1), b = peer(2);
  h.join({a.address, b.address});
  h.connect_failed(a);
  h.clear();
  h.link_up(b);
  REQUIRE(h.active(b));
  REQUIRE(h.all<JoinSucceeded>().size() == 1);
}

TEST_CASE("join without contacts (or only itself) fails at once") {
  Harness h;
  h.join({});
  REQUIRE(h.all<JoinFailed>().size() == 1);
  h.clear();
  h.join({h.core.self().address});
  REQUIRE(h.all<JoinFailed>().size() == 1);
  REQUIRE(h.all<Connect>().empty());
}

TEST_CASE("an isolated node re-joins with capped exponential backoff, reset by success") {
  Options o = quiet_options();
  o.join_retry_min = seconds(1);
  o.join_retry_max = seconds(4);
  Harness h(o);
  const PeerId contact = peer(1);
  h.join({contact.address});
  h.connect_failed(contact);

  std::vector<Duration> delays;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto rejoin = h.timers(TimerKind::rejoin);
    REQUIRE(rejoin.size() == 1);
    delays.push_back(rejoin[0].at - h.now);
    h.now = rejoin[0].at;
    h.clear();
    h.fire(rejoin[0].timer);
    REQUIRE(h.connected(contact));          // a new attempt through the contact
    REQUIRE(h.all<JoinFailed>().empty());   // background retries are not reported again
    h.connect_failed(contact);
  }
  REQUIRE(delays == std::vector<Duration>{seconds(1), seconds(2), seconds(4), seconds(4), seconds(4)});

  // Success resets the backoff: the next isolation waits the minimum again.
  auto rejoin = h.timers(TimerKind::rejoin);
  h.now = rejoin[0].at;
  h.fire(rejoin[0].timer);
  h.link_up(contact);
  REQUIRE(h.active(contact));
  h.clear();
  h.link_down(contact);
  rejoin = h.timers(TimerKind::rejoin);
  REQUIRE(rejoin.size() == 1);
  REQUIRE(rejoin[0].at - h.now == seconds(1));
}

TEST_CASE("re-join delays are jittered within the configured bounds") {
  Options o;  // default jitter 0.1
  o.join_retry_min = seconds(10);
  o.join_retry_max = seconds(10);
  std::vector<Duration> seen;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Harness h(o, 0, seed);
    h.join({peer(1).address});
    h.connect_failed(peer(1));
    const auto rejoin = h.timers(TimerKind::rejoin);
    REQUIRE(rejoin.size() == 1);
    const Duration d = rejoin[0].at - h.now;
    REQUIRE(d >= seconds(9));
    REQUIRE(d <= seconds(11));
    seen.push_back(d);
  }
  std::sort(seen.begin(), seen.end());
  REQUIRE(seen.front() != seen.back());
}

TEST_CASE("a stale re-join timer does nothing once the node has neighbours") {
  Harness h;
  h.join({peer(1).address});
  h.connect_failed(peer(1));
  const auto rejoin = h.timers(TimerKind::rejoin);
  h.make_active(peer(2));
  h.clear();
  h.fire(rejoin[0].timer);
  REQUIRE(h.out.empty());
}

TEST_CASE("the contact adds the joiner and sends FORWARD_JOIN to its other active peers") {
  Harness h;
  const PeerId x = peer(1), y = peer(2), joiner = peer(3);
  h.make_active(x);
  h.make_active(y);
  h.clear();
  h.link_up(joiner);
  h.receive(joiner, Join{});
  REQUIRE(h.active(joiner));
  REQUIRE(h.sent_to<ForwardJoin>(x) == std::vector<ForwardJoin>{{joiner, h.core.options().arwl}});
  REQUIRE(h.sent_to<ForwardJoin>(y) == std::vector<ForwardJoin>{{joiner, h.core.options().arwl}});
  REQUIRE(h.sent_to<ForwardJoin>(joiner).empty());

  SECTION("a repeated JOIN (a neighbour short of neighbours) is walked again, not re-added") {
    h.clear();
    h.receive(joiner, Join{});
    REQUIRE(h.sent<ForwardJoin>().size() == 2);
    REQUIRE(h.ups().empty());
    REQUIRE(h.core.active_view().size() == 3);
  }
}

TEST_CASE("a JOIN to a full active view evicts a random peer, which is told and kept passive") {
  Harness h;
  for (int i = 1; i <= 5; ++i) h.make_active(peer(i));
  h.clear();
  const PeerId joiner = peer(9);
  h.link_up(joiner);
  h.receive(joiner, Join{});
  REQUIRE(h.active(joiner));
  REQUIRE(h.core.active_view().size() == 5);
  const auto downs = h.downs();
  REQUIRE(downs.size() == 1);
  REQUIRE(downs[0].reason == DownReason::evicted);
  const PeerId evicted = downs[0].peer;
  REQUIRE(h.sent_to<Disconnect>(evicted) == std::vector<Disconnect>{{true}});
  REQUIRE(h.closed(evicted));
  REQUIRE(h.passive(evicted));
  // FORWARD_JOIN goes to the four remaining peers, not to the evicted one.
  REQUIRE(h.sent<ForwardJoin>().size() == 4);
  REQUIRE(h.sent_to<ForwardJoin>(evicted).empty());
}

TEST_CASE("FORWARD_JOIN with TTL 0 ends the walk: the joiner is asked with high priority") {
  Harness h;
  const PeerId x = peer(1), y = peer(2), joiner = peer(3);
  h.make_active(x);
  h.make_active(y);
  h.clear();
  h.receive(x, ForwardJoin{joiner, 0});
  REQUIRE(h.connected(joiner));
  REQUIRE(h.sent_to<Neighbor>(joiner) == std::vector<Neighbor>{{Priority::high}});
  REQUIRE(h.sent<ForwardJoin>().empty());
  REQUIRE_FALSE(h.active(joiner));  // only once the joiner accepts

  h.link_up(joiner);
  h.receive(joiner, NeighborReply{true});
  REQUIRE(h.active(joiner));
}

TEST_CASE("FORWARD_JOIN ends at a node whose only active peer is the sender") {
  Harness h;
  const PeerId x = peer(1), joiner = peer(3);
  h.make_active(x);
  h.clear();
  h.receive(x, ForwardJoin{joiner, 5});
  REQUIRE(h.sent_to<Neighbor>(joiner) == std::vector<Neighbor>{{Priority::high}});
}

TEST_CASE("FORWARD_JOIN at TTL = PRWL adds the joiner to the passive view and walks on") {
  Harness h;
  const PeerId x = peer(1), y = peer(2), joiner = peer(3);
  h.make_active(x);
  h.make_active(y);
  h.clear();
  const std::uint8_t prwl = h.core.options().prwl;
  h.receive(x, ForwardJoin{joiner, prwl});
  REQUIRE(h.passive(joiner));
  REQUIRE(h.sent_to<ForwardJoin>(y) == std::vector<ForwardJoin>{{joiner, static_cast<std::uint8_t>(prwl - 1)}});
  REQUIRE(h.sent_to<ForwardJoin>(x).empty());  // never back to the sender

  SECTION("other TTLs walk on without touching the passive view") {
    Harness g;
    g.make_active(x);
    g.make_active(y);
    g.receive(x, ForwardJoin{joiner, static_cast<std::uint8_t>(prwl + 1)});
    REQUIRE_FALSE(g.passive(joiner));
    REQUIRE(g.sent_to<ForwardJoin>(y).size() == 1);
  }
}

TEST_CASE("FORWARD_JOIN TTLs above ARWL are clamped, so a peer cannot lengthen walks") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.clear();
  h.receive(peer(1), ForwardJoin{peer(3), 255});
  const auto fwd = h.sent<ForwardJoin>();
  REQUIRE(fwd.size() == 1);
  REQUIRE(fwd[0].second.ttl == h.core.options().arwl - 1);
}

TEST_CASE("FORWARD_JOIN about ourselves or an existing neighbour changes nothing") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.clear();
  h.receive(peer(1), ForwardJoin{h.core.self(), 0});
  REQUIRE(h.out.empty());
  h.receive(peer(1), ForwardJoin{peer(2), 0});
  REQUIRE(h.sent<Neighbor>().empty());
  REQUIRE(h.core.active_view().size() == 2);
}

TEST_CASE("a node short of neighbours with no spare left joins again through its contact") {
  Harness h;
  const PeerId contact = peer(1);
  h.join({contact.address});
  h.link_up(contact);
  h.make_active(peer(2));
  h.clear();
  h.link_down(peer(2));  // one neighbour left, passive view empty
  const auto rejoin = h.timers(TimerKind::rejoin);
  REQUIRE(rejoin.size() == 1);
  h.now = rejoin[0].at;
  h.clear();
  h.fire(rejoin[0].timer);
  REQUIRE(h.sent_to<Join>(contact).size() == 1);  // the contact walks us again
  REQUIRE(h.timers(TimerKind::rejoin).size() == 1);  // and again later if that does not help
}
