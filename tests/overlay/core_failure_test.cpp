// SPDX-License-Identifier: Apache-2.0
// Failure detection and repair: broken links, keepalive, quarantine of lost peers, restarts
// (incarnations), leaving, stale input.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace hypar;
using namespace hypar::hyparview;
using namespace hypar::hyparview::testing;

TEST_CASE("link_down of an active peer reports failed and drops it") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.clear();
  h.link_down(peer(1));
  REQUIRE(h.downs().size() == 1);
  REQUIRE(h.downs()[0].peer == peer(1));
  REQUIRE(h.downs()[0].reason == DownReason::failed);
  REQUIRE_FALSE(h.active(peer(1)));
  REQUIRE_FALSE(h.passive(peer(1)));
  REQUIRE(h.all<Close>().empty());  // the link is already gone
}

TEST_CASE("link_down for a link the core closed itself is ignored") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.receive(peer(1), Disconnect{true});
  h.clear();
  h.link_down(peer(1));
  REQUIRE(h.out.empty());
  REQUIRE(h.passive(peer(1)));
}

TEST_CASE("keepalive pings every active peer each interval") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.clear();
  h.advance(h.core.options().keepalive_interval);
  h.fire(Timer{TimerKind::keepalive});
  REQUIRE(h.sent_to<Keepalive>(peer(1)).size() == 1);
  REQUIRE(h.sent_to<Keepalive>(peer(2)).size() == 1);
  const auto next = h.timers(TimerKind::keepalive);
  REQUIRE(next.size() == 1);
  REQUIRE(next[0].at == h.now + h.core.options().keepalive_interval);
}

TEST_CASE("a peer silent for longer than keepalive_timeout is declared timed out") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  const auto& o = h.core.options();
  // peer 2 keeps talking, peer 1 goes silent.
  for (Duration t{}; t <= o.keepalive_timeout; t += o.keepalive_interval) {
    h.advance(o.keepalive_interval);
    h.receive(peer(2), Keepalive{});
    h.clear();
    h.fire(Timer{TimerKind::keepalive});
  }
  REQUIRE_FALSE(h.active(peer(1)));
  REQUIRE(h.active(peer(2)));
  REQUIRE(h.downs().size() == 1);
  REQUIRE(h.downs()[0].reason == DownReason::timed_out);
  REQUIRE(h.closed(peer(1)));
}

TEST_CASE("any message counts as a sign of life for keepalive") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  const auto& o = h.core.options();
  for (int i = 0; i < 20; ++i) {
    h.advance(o.keepalive_interval);
    h.receive(peer(1), Shuffle{peer(50), 1, static_cast<std::uint32_t>(i), {}});
    h.receive(peer(2), Keepalive{});
    h.fire(Timer{TimerKind::keepalive});
  }
  REQUIRE(h.downs().empty());
}

TEST_CASE("keepalive_interval 0 disables keepalive timers") {
  Options o = quiet_options();
  o.keepalive_interval = Duration::zero();
  Harness h(o);
  auto keepalive_timers = [](const std::vector<Output>& outputs) {
    return std::count_if(outputs.begin(), outputs.end(), [](const Output& x) {
      auto* t = std::get_if<ScheduleTimer>(&x);
      return t && t->timer.kind == TimerKind::keepalive;
    });
  };
  REQUIRE(keepalive_timers(h.start_timers) == 0);
  Harness with_keepalive;
  REQUIRE(keepalive_timers(with_keepalive.start_timers) == 1);
}

TEST_CASE("a lost peer is quarantined: walks and shuffles do not bring it back") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.make_active(peer(3));
  h.link_down(peer(3));
  h.clear();
  h.receive(peer(1), ForwardJoin{peer(3), h.core.options().prwl});
  REQUIRE_FALSE(h.passive(peer(3)));
  h.receive(peer(1), ForwardJoin{peer(3), 0});
  REQUIRE(h.sent_to<Neighbor>(peer(3)).empty());
  h.receive(peer(2), Shuffle{peer(50), 1, 1, {peer(3)}});
  REQUIRE_FALSE(h.passive(peer(3)));

  SECTION("a newer incarnation is a new node and is welcome at once") {
    h.receive(peer(2), Shuffle{peer(50), 1, 2, {peer(3, 2)}});
    REQUIRE(h.passive(peer(3, 2)));
  }
  SECTION("the quarantine ends after lost_quarantine") {
    h.advance(h.core.options().lost_quarantine + seconds(1));
    h.receive(peer(2), Shuffle{peer(50), 1, 3, {peer(3)}});
    REQUIRE(h.passive(peer(3)));
  }
}

TEST_CASE("a link_up from a newer incarnation of an active peer replaces the old life") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.clear();
  h.link_up(peer(1, 2));  // peer 1 restarted and connects again
  REQUIRE(h.downs().size() == 1);
  REQUIRE(h.downs()[0].peer == peer(1, 1));
  REQUIRE(h.downs()[0].reason == DownReason::failed);
  h.receive(peer(1, 2), Neighbor{Priority::low});
  REQUIRE(h.active(peer(1, 2)));
  const auto view = h.core.active_view();
  REQUIRE(std::find(view.begin(), view.end(), peer(1, 2)) != view.end());
}

TEST_CASE("leave sends DISCONNECT(alive=false) to every active peer and closes every link") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.link_up(peer(7));  // an extra, non-active link
  h.clear();
  h.core.leave(h.now);
  h.drain();
  REQUIRE(h.sent_to<Disconnect>(peer(1)) == std::vector<Disconnect>{{false}});
  REQUIRE(h.sent_to<Disconnect>(peer(2)) == std::vector<Disconnect>{{false}});
  REQUIRE(h.closed(peer(1)));
  REQUIRE(h.closed(peer(2)));
  REQUIRE(h.closed(peer(7)));
  REQUIRE(h.downs().size() == 2);
  for (const auto& d : h.downs()) REQUIRE(d.reason == DownReason::graceful);
  REQUIRE(h.core.active_view().empty());
  REQUIRE(h.core.has_left());

  h.clear();
  h.link_up(peer(9));
  h.receive(peer(9), Join{});
  h.fire(Timer{TimerKind::shuffle});
  REQUIRE(h.out.empty());  // a node that left does nothing more
}

TEST_CASE("messages on unknown links are ignored") {
  Harness h;
  h.receive(peer(4), Join{});
  h.receive(peer(4), ForwardJoin{peer(5), 0});
  h.receive(peer(4), Neighbor{Priority::high});
  h.receive(peer(4), Disconnect{false});
  h.receive(peer(4), Shuffle{peer(5), 1, 1, {peer(6)}});
  h.receive(peer(4), Keepalive{});
  REQUIRE(h.out.empty());
  REQUIRE(h.core.active_view().empty());
  REQUIRE(h.core.passive_view().empty());
}

TEST_CASE("a link to ourselves is closed at once") {
  Harness h;
  h.link_up(h.core.self());
  REQUIRE(h.all<Close>().size() == 1);
  h.receive(h.core.self(), Join{});
  REQUIRE(h.core.active_view().empty());
}

TEST_CASE("the sweep closes links that never became neighbours") {
  Harness h;
  h.make_active(peer(1));
  h.link_up(peer(7));  // e.g. a peer that opened a link and went quiet
  h.clear();
  h.advance(h.core.options().idle_link_timeout + seconds(1));
  h.fire(Timer{TimerKind::sweep});
  REQUIRE(h.closed(peer(7)));
  REQUIRE_FALSE(h.closed(peer(1)));
  REQUIRE(h.timers(TimerKind::sweep).size() == 1);
}

TEST_CASE("a failed connect to a passive candidate drops it and tries another") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  for (int j = 1; j <= 4; ++j) h.receive(peer(1), ForwardJoin{peer(10 + j), h.core.options().prwl});
  h.link_down(peer(2));
  const auto asked = h.sent<Neighbor>();
  REQUIRE(asked.size() == 4);
  h.clear();
  const PeerId dead{asked[0].first, "", 1};
  h.connect_failed(dead);
  REQUIRE_FALSE(h.core.is_passive(dead.address));
  REQUIRE(h.core.pending_requests() == 3);
}

// ---- keepalive when this node itself was not running (issue 17) ----
// A node's event loop can stall (a GC pause, a VM steal, a host starved of CPU): its keepalive tick
// then runs late, before the reads of what its peers sent meanwhile. That time must not count as
// the peers' silence.

namespace {

// Fires the keepalive timer the core scheduled last (in `h.out`), `lateness` after it was due, and
// returns the instant it fired at.
Instant fire_keepalive_late(Harness& h, Duration lateness) {
  const auto scheduled = h.timers(TimerKind::keepalive);
  REQUIRE(scheduled.size() == 1);
  h.now = scheduled[0].at + lateness;
  h.clear();
  h.fire(Timer{TimerKind::keepalive});
  return h.now;
}

// Harness with peers 1 and 2 active and the first keepalive tick scheduled in `h.out`.
void two_active_peers(Harness& h) {
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.clear();
  h.out = h.start_timers;
}

}  // namespace

TEST_CASE("keepalive: a tick 10 s late after a stall keeps the peers whose messages are read right after") {
  Harness h;
  two_active_peers(h);
  fire_keepalive_late(h, Duration::zero());  // an ordinary tick
  h.receive(peer(1), Keepalive{});
  h.receive(peer(2), Keepalive{});

  // The loop stalls: the next tick runs 10 s late, before the peers' KEEPALIVEs of that time are read.
  fire_keepalive_late(h, seconds(10));
  REQUIRE(h.downs().empty());
  REQUIRE(h.sent_to<Keepalive>(peer(1)).size() == 1);
  REQUIRE(h.sent_to<Keepalive>(peer(2)).size() == 1);

  // The reads run, and the node runs normally again: both peers talk, nobody is declared failed.
  for (int tick = 0; tick < 10; ++tick) {
    h.receive(peer(1), Keepalive{});
    h.receive(peer(2), Keepalive{});
    fire_keepalive_late(h, Duration::zero());
    REQUIRE(h.downs().empty());
  }
  REQUIRE(h.active(peer(1)));
  REQUIRE(h.active(peer(2)));
}

TEST_CASE("keepalive: a peer silent across a stall is declared failed after timeout + lag, not before") {
  Harness h;
  const auto& o = h.core.options();
  two_active_peers(h);
  fire_keepalive_late(h, Duration::zero());
  h.receive(peer(1), Keepalive{});  // peer 1's last word
  h.receive(peer(2), Keepalive{});
  const Instant last_heard_1 = h.now;

  const Duration lag = seconds(10);
  fire_keepalive_late(h, lag);
  REQUIRE(h.downs().empty());
  // From now on only peer 2 talks, read right after each tick.
  while (h.active(peer(1)) && h.now < last_heard_1 + lag + 4 * o.keepalive_timeout) {
    h.receive(peer(2), Keepalive{});
    fire_keepalive_late(h, Duration::zero());
  }
  REQUIRE_FALSE(h.active(peer(1)));
  REQUIRE(h.active(peer(2)));
  REQUIRE(h.downs().size() == 1);
  REQUIRE(h.downs()[0].peer == peer(1));
  REQUIRE(h.downs()[0].reason == DownReason::timed_out);
  // Silence counts only the time the node ran: more than the timeout beyond the lag, and found
  // within two ticks of that (checked once an interval, one tick deferred after the stall).
  const Duration silence = h.now - last_heard_1;
  REQUIRE(silence > o.keepalive_timeout + lag);
  REQUIRE(silence <= o.keepalive_timeout + lag + 2 * o.keepalive_interval);
}

TEST_CASE("keepalive: on a loop late at every tick, a dead peer is still declared failed") {
  Harness h;
  const auto& o = h.core.options();
  two_active_peers(h);
  const Duration lag = 3 * o.keepalive_interval;  // every tick: a stall, never a tick on time
  int ticks = 0;
  while (h.active(peer(1)) && ticks < 100) {
    h.receive(peer(2), Keepalive{});  // read after each tick; peer 1 is dead from the start
    fire_keepalive_late(h, lag);
    ++ticks;
  }
  REQUIRE_FALSE(h.active(peer(1)));
  REQUIRE(h.active(peer(2)));  // heard one running interval before every tick
  REQUIRE(h.downs().size() == 1);
  REQUIRE(h.downs()[0].reason == DownReason::timed_out);
  // Each tick adds one interval of running time (the lag is not counted), and a check deferred
  // after a stall is made at the next tick whatever that tick's lateness.
  const int ticks_to_timeout = static_cast<int>(o.keepalive_timeout / o.keepalive_interval) + 1;
  REQUIRE(ticks * o.keepalive_interval > o.keepalive_timeout);
  REQUIRE(ticks <= ticks_to_timeout + 1);
}
