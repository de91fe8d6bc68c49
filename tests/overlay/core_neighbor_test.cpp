// SPDX-License-Identifier: Apache-2.0
// NEIGHBOR requests and replies, DISCONNECT, and promotion of passive peers.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace hypar;
using namespace hypar::hyparview;
using namespace hypar::hyparview::testing;

namespace {

// A node with `n` active peers 1..n and passive peers 11..(10+m), obtained through
// FORWARD_JOIN at TTL = PRWL, the way the protocol fills passive views.
void populate(Harness& h, int n, int m) {
  for (int i = 1; i <= n; ++i) h.make_active(peer(i));
  REQUIRE(n >= 2);
  for (int j = 1; j <= m; ++j) h.receive(peer(1), ForwardJoin{peer(10 + j), h.core.options().prwl});
  h.clear();
}

}  // namespace

TEST_CASE("NEIGHBOR with low priority is accepted while there is room") {
  Harness h;
  h.link_up(peer(1));
  h.receive(peer(1), Neighbor{Priority::low});
  REQUIRE(h.active(peer(1)));
  REQUIRE(h.sent_to<NeighborReply>(peer(1)) == std::vector<NeighborReply>{{true}});
  REQUIRE(h.ups().size() == 1);
}

TEST_CASE("NEIGHBOR with low priority is rejected by a full active view") {
  Harness h;
  for (int i = 1; i <= 5; ++i) h.make_active(peer(i));
  h.clear();
  h.link_up(peer(9));
  h.receive(peer(9), Neighbor{Priority::low});
  REQUIRE_FALSE(h.active(peer(9)));
  REQUIRE(h.sent_to<NeighborReply>(peer(9)) == std::vector<NeighborReply>{{false}});
  REQUIRE(h.downs().empty());
  REQUIRE(h.core.active_view().size() == 5);
}

TEST_CASE("NEIGHBOR with high priority is accepted by a full view, evicting one peer") {
  Harness h;
  for (int i = 1; i <= 5; ++i) h.make_active(peer(i));
  h.clear();
  h.link_up(peer(9));
  h.receive(peer(9), Neighbor{Priority::high});
  REQUIRE(h.active(peer(9)));
  REQUIRE(h.core.active_view().size() == 5);
  REQUIRE(h.downs().size() == 1);
  REQUIRE(h.downs()[0].reason == DownReason::evicted);
  REQUIRE(h.passive(h.downs()[0].peer));
}

TEST_CASE("NEIGHBOR from an active peer is simply confirmed") {
  Harness h;
  h.make_active(peer(1));
  h.clear();
  h.receive(peer(1), Neighbor{Priority::low});
  REQUIRE(h.sent_to<NeighborReply>(peer(1)) == std::vector<NeighborReply>{{true}});
  REQUIRE(h.ups().empty());
  REQUIRE(h.core.active_view().size() == 1);
}

TEST_CASE("a node one short of a full view promotes a passive peer with low priority") {
  Harness h;
  populate(h, 5, 3);
  h.link_down(peer(5));
  REQUIRE(h.downs().size() == 1);
  REQUIRE(h.downs()[0].reason == DownReason::failed);
  REQUIRE_FALSE(h.passive(peer(5)));  // a failed peer is dropped, not kept as a spare
  const auto asks = h.sent<Neighbor>();
  REQUIRE(asks.size() == 1);  // one free slot, one request in flight
  REQUIRE(asks[0].second.priority == Priority::low);
  REQUIRE(h.core.is_passive(asks[0].first));
  const auto timeouts = h.timers(TimerKind::neighbor_timeout);
  REQUIRE(timeouts.size() == 1);
  REQUIRE(timeouts[0].at == h.now + h.core.options().neighbor_timeout);
}

TEST_CASE("a node two or more short asks with high priority, as does an isolated one") {
  Harness h;
  populate(h, 5, 6);
  h.link_down(peer(5));
  const auto low = h.sent<Neighbor>();
  REQUIRE(low.size() == 1);
  REQUIRE(low[0].second.priority == Priority::low);
  h.clear();
  h.link_down(peer(4));
  auto asks = h.sent<Neighbor>();
  REQUIRE(asks.size() == 1);  // the second free slot
  REQUIRE(asks[0].second.priority == Priority::high);

  SECTION("a low-priority request rejected after further losses is repeated with high priority") {
    const PeerId rejecting{low[0].first, "n?", 1};
    h.link_up(rejecting);
    h.clear();
    h.receive(rejecting, NeighborReply{false});
    REQUIRE(h.sent_to<Neighbor>(rejecting) == std::vector<Neighbor>{{Priority::high}});
    REQUIRE_FALSE(h.closed(rejecting));
    h.receive(rejecting, NeighborReply{true});
    REQUIRE(h.active(rejecting));
  }
  SECTION("losing every neighbour: every new request is high priority") {
    for (int i = 1; i <= 3; ++i) h.link_down(peer(i));
    REQUIRE(h.core.active_view().empty());
    asks = h.sent<Neighbor>();
    REQUIRE(asks.size() == 4);  // 5 slots, one request was already in flight before the clear
    for (const auto& [to, m] : asks) REQUIRE(m.priority == Priority::high);
  }
}

TEST_CASE("a node short of neighbours without having lost any asks its passive peers at the next shuffle") {
  // E.g. a joiner whose contact had one neighbour to walk it to: two active peers, a passive view
  // filled by walks and shuffles, and no loss, eviction or rejection that would make it ask.
  Harness h;
  populate(h, 2, 6);
  REQUIRE(h.sent<Neighbor>().empty());  // becoming passive peers asks nobody by itself
  h.advance(h.core.options().shuffle_period);
  h.fire({TimerKind::shuffle});
  const auto asks = h.sent<Neighbor>();
  REQUIRE(asks.size() == 3);  // every free slot
  for (const auto& [to, m] : asks) {
    REQUIRE(h.core.is_passive(to));
    REQUIRE(m.priority == Priority::high);  // three short
  }
  REQUIRE(h.core.pending_requests() == 3);
  h.clear();
  h.advance(h.core.options().shuffle_period);
  h.fire({TimerKind::shuffle});  // requests in flight fill the free slots: no more asks
  REQUIRE(h.sent<Neighbor>().empty());
}

TEST_CASE("a node short of neighbours whose re-join timer finds spares asks them") {
  // Its passive view was empty when it last tried to fill (so it scheduled a re-join); the
  // spares that arrived meanwhile are asked when the timer fires.
  Harness h;
  for (int i = 1; i <= 3; ++i) h.make_active(peer(i));
  h.join({peer(1).address});  // contacts to re-join through
  h.link_down(peer(3));       // no spare to ask: a re-join is scheduled
  const auto rejoin = h.timers(TimerKind::rejoin);
  REQUIRE(rejoin.size() == 1);
  REQUIRE(h.sent<Neighbor>().empty());
  h.receive(peer(1), ForwardJoin{peer(11), h.core.options().prwl});
  h.receive(peer(1), ForwardJoin{peer(12), h.core.options().prwl});
  h.clear();
  h.now = rejoin[0].at;
  h.fire(rejoin[0].timer);
  REQUIRE(h.sent<Neighbor>().size() == 2);
}

TEST_CASE("an accepted NEIGHBOR request adds the candidate to the active view") {
  Harness h;
  populate(h, 2, 1);
  h.link_down(peer(2));
  const PeerId candidate = peer(11);
  REQUIRE(h.sent_to<Neighbor>(candidate).size() == 1);
  h.clear();
  h.link_up(candidate);
  h.receive(candidate, NeighborReply{true});
  REQUIRE(h.active(candidate));
  REQUIRE_FALSE(h.passive(candidate));
  REQUIRE(h.ups().size() == 1);
  REQUIRE(h.core.pending_requests() == 0);
}

TEST_CASE("a rejected NEIGHBOR request closes the link, keeps the candidate passive, and backs off") {
  Harness h;
  populate(h, 2, 1);
  h.link_down(peer(2));
  const PeerId candidate = peer(11);
  h.clear();
  h.link_up(candidate);
  h.receive(candidate, NeighborReply{false});
  REQUIRE(h.closed(candidate));
  REQUIRE(h.passive(candidate));
  REQUIRE_FALSE(h.active(candidate));
  REQUIRE(h.sent<Neighbor>().empty());  // the only candidate is backing off
  const auto retry = h.timers(TimerKind::fill_active);
  REQUIRE(retry.size() == 1);
  REQUIRE(retry[0].at == h.now + h.core.options().reject_backoff);

  h.now = retry[0].at;
  h.clear();
  h.fire(retry[0].timer);
  REQUIRE(h.sent_to<Neighbor>(candidate).size() == 1);  // asked again after the backoff
}

TEST_CASE("a NEIGHBOR request that times out moves on to the next candidate") {
  Harness h;
  populate(h, 2, 6);
  // Four requests go out when one neighbour of two is lost; the other passive peers wait.
  h.link_down(peer(2));
  const auto timeouts = h.timers(TimerKind::neighbor_timeout);
  REQUIRE(timeouts.size() == 4);
  const Address first = timeouts[0].timer.peer;
  h.now = timeouts[0].at;
  h.clear();
  h.fire(timeouts[0].timer);
  REQUIRE(h.closed(PeerId{first, "", 1}));
  REQUIRE_FALSE(h.core.is_passive(first));  // unresponsive: dropped
  const auto asks = h.sent<Neighbor>();
  REQUIRE(asks.size() == 1);
  REQUIRE(asks[0].first != first);
}

TEST_CASE("a late NEIGHBOR_REPLY after a timeout does not re-add the peer") {
  Harness h;
  populate(h, 2, 1);
  h.link_down(peer(2));
  const PeerId candidate = peer(11);
  const auto timeouts = h.timers(TimerKind::neighbor_timeout);
  REQUIRE(timeouts.size() == 1);
  h.now = timeouts[0].at;
  h.fire(timeouts[0].timer);
  // The link comes up late and the accept arrives after we gave up.
  h.clear();
  h.link_up(candidate);
  h.receive(candidate, NeighborReply{true});
  REQUIRE_FALSE(h.active(candidate));
  REQUIRE(h.ups().empty());
  REQUIRE(h.sent_to<Disconnect>(candidate) == std::vector<Disconnect>{{true}});  // undo its side
  REQUIRE(h.closed(candidate));
}

// ---- a deadline that fires late because this node's loop was stalled (issue 17) ----

TEST_CASE("a NEIGHBOR deadline that fires late after a stall waits once more; the reply read then is accepted") {
  Harness h;
  populate(h, 2, 1);
  h.link_down(peer(2));
  const PeerId candidate = peer(11);
  const auto timeouts = h.timers(TimerKind::neighbor_timeout);
  REQUIRE(timeouts.size() == 1);
  h.now = timeouts[0].at + seconds(10);  // the loop was stalled: the reply may sit unread
  h.clear();
  h.fire(timeouts[0].timer);
  REQUIRE_FALSE(h.closed(candidate));
  REQUIRE(h.core.is_pending(candidate.address));
  REQUIRE(h.core.awaits_reply(timeouts[0].timer));  // not counted as timed out
  const auto again = h.timers(TimerKind::neighbor_timeout);
  REQUIRE(again.size() == 1);
  REQUIRE(again[0].timer.token == timeouts[0].timer.token);
  REQUIRE(again[0].at == h.now + h.core.options().neighbor_timeout);  // the lag, at most the timeout
  // The reads run: the link is up and the accept is taken.
  h.link_up(candidate);
  h.receive(candidate, NeighborReply{true});
  REQUIRE(h.active(candidate));
  REQUIRE_FALSE(h.core.awaits_reply(timeouts[0].timer));
}

TEST_CASE("a NEIGHBOR request still unanswered after its one extension is abandoned, late or not") {
  for (const Duration second_lateness : {Duration::zero(), Duration(seconds(10))}) {
    Harness h;
    populate(h, 2, 1);
    h.link_down(peer(2));
    const PeerId candidate = peer(11);
    const auto timeouts = h.timers(TimerKind::neighbor_timeout);
    REQUIRE(timeouts.size() == 1);
    const Duration lag = milliseconds(1500);
    h.now = timeouts[0].at + lag;
    h.clear();
    h.fire(timeouts[0].timer);
    const auto again = h.timers(TimerKind::neighbor_timeout);
    REQUIRE(again.size() == 1);
    REQUIRE(again[0].at == h.now + lag);  // waits for the time the lag took
    h.now = again[0].at + second_lateness;
    h.clear();
    h.fire(again[0].timer);
    REQUIRE(h.closed(candidate));
    REQUIRE_FALSE(h.core.is_pending(candidate.address));
    REQUIRE_FALSE(h.core.awaits_reply(again[0].timer));  // timed out: counted
  }
}

TEST_CASE("a NEIGHBOR deadline a little late (under a quarter of the timeout) is not extended") {
  Harness h;
  populate(h, 2, 1);
  h.link_down(peer(2));
  const auto timeouts = h.timers(TimerKind::neighbor_timeout);
  h.now = timeouts[0].at + h.core.options().neighbor_timeout / 5;
  h.clear();
  h.fire(timeouts[0].timer);
  REQUIRE(h.closed(peer(11)));
  REQUIRE_FALSE(h.core.awaits_reply(timeouts[0].timer));
}

TEST_CASE("a timer for an answered request is a no-op") {
  Harness h;
  populate(h, 2, 1);
  h.link_down(peer(2));
  const auto timeouts = h.timers(TimerKind::neighbor_timeout);
  h.link_up(peer(11));
  h.receive(peer(11), NeighborReply{true});
  h.clear();
  h.now = timeouts[0].at;
  h.fire(timeouts[0].timer);
  REQUIRE(h.out.empty());
  REQUIRE(h.active(peer(11)));
}

TEST_CASE("an unsolicited NEIGHBOR_REPLY from an unknown link is ignored") {
  Harness h;
  h.receive(peer(5), NeighborReply{true});  // no link at all
  REQUIRE(h.out.empty());
  h.link_up(peer(5));
  h.receive(peer(5), NeighborReply{true});  // a link, but no request
  REQUIRE_FALSE(h.active(peer(5)));
}

TEST_CASE("crossing NEIGHBOR requests are both accepted and give one link, not two") {
  Harness h;
  populate(h, 2, 1);
  h.link_down(peer(2));
  const PeerId other = peer(11);
  REQUIRE(h.sent_to<Neighbor>(other).size() == 1);
  // Fill our view so that a low-priority request would normally be refused.
  for (int i = 3; i <= 6; ++i) h.make_active(peer(i));
  REQUIRE(h.core.active_view().size() == 5);
  h.clear();
  h.link_up(other);
  h.receive(other, Neighbor{Priority::low});  // its request crossed ours
  REQUIRE(h.sent_to<NeighborReply>(other) == std::vector<NeighborReply>{{true}});
  REQUIRE(h.active(other));
  h.receive(other, NeighborReply{true});  // its answer to our request
  REQUIRE(h.ups().size() == 1);
  REQUIRE(h.sent_to<Disconnect>(other).empty());
  const auto view = h.core.active_view();
  REQUIRE(std::count_if(view.begin(), view.end(), [&](const PeerId& p) { return p == other; }) == 1);
}

TEST_CASE("DISCONNECT alive=true moves the peer to the passive view (evicted)") {
  Harness h;
  populate(h, 2, 0);
  h.receive(peer(1), Disconnect{true});
  REQUIRE_FALSE(h.active(peer(1)));
  REQUIRE(h.passive(peer(1)));
  REQUIRE(h.downs().size() == 1);
  REQUIRE(h.downs()[0].reason == DownReason::evicted);
  REQUIRE(h.closed(peer(1)));
}

TEST_CASE("DISCONNECT alive=false drops a leaving peer from every view (graceful)") {
  Harness h;
  populate(h, 2, 0);
  h.receive(peer(1), Disconnect{false});
  REQUIRE_FALSE(h.active(peer(1)));
  REQUIRE_FALSE(h.passive(peer(1)));
  REQUIRE(h.downs().size() == 1);
  REQUIRE(h.downs()[0].reason == DownReason::graceful);
  REQUIRE(h.sent_to<Neighbor>(peer(1)).empty());  // not asked back
}

TEST_CASE("DISCONNECT from a passive peer that is leaving removes it") {
  Harness h;
  populate(h, 2, 1);
  h.link_up(peer(11));
  h.receive(peer(11), Disconnect{false});
  REQUIRE_FALSE(h.passive(peer(11)));
  REQUIRE(h.downs().empty());
}
