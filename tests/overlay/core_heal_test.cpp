// SPDX-License-Identifier: Apache-2.0
// Partition healing in the core: peers lost to a timeout or a broken link are remembered and
// asked again with high priority on a capped backoff; graceful leavers and evictions are not.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace hypar;
using namespace hypar::hyparview;
using namespace hypar::hyparview::testing;

namespace {

// Lets peer 1 go silent until keepalive declares it timed out; returns the instant it happened.
Instant time_out_peer1(Harness& h) {
  const auto& o = h.core.options();
  while (h.active(peer(1))) {
    h.advance(o.keepalive_interval);
    h.receive(peer(2), Keepalive{});
    h.fire(Timer{TimerKind::keepalive});
  }
  return h.now;
}

std::vector<ScheduleTimer> heal_timers(const Harness& h) { return h.timers(TimerKind::heal); }

}  // namespace

TEST_CASE("heal: a peer lost to a timeout is asked again with high priority after heal_retry_min/2..heal_retry_min") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.clear();
  const Instant lost_at = time_out_peer1(h);
  REQUIRE(h.core.lost_peers() == std::vector<PeerId>{peer(1)});
  const auto timers = heal_timers(h);
  REQUIRE(timers.size() == 1);
  const auto& o = h.core.options();
  CHECK(timers[0].at >= lost_at + o.heal_retry_min / 2);
  CHECK(timers[0].at <= lost_at + o.heal_retry_min);

  h.now = timers[0].at;
  h.clear();
  h.fire(timers[0].timer);
  REQUIRE(h.connected(peer(1)));
  REQUIRE(h.sent_to<Neighbor>(peer(1)) == std::vector<Neighbor>{Neighbor{Priority::high}});

  // It answers: a neighbour again, and no longer remembered as lost.
  h.link_up(peer(1));
  h.receive(peer(1), NeighborReply{true});
  CHECK(h.active(peer(1)));
  CHECK(h.core.lost_peers().empty());
}

TEST_CASE("heal: the wait doubles up to heal_retry_max while the lost peer does not answer, then it is forgotten") {
  Options options = quiet_options();
  options.heal_retry_min = seconds(10);
  options.heal_retry_max = seconds(40);
  options.heal_forget_after = seconds(300);
  Harness h(options);
  h.make_active(peer(1));
  h.make_active(peer(2));
  const Instant lost_at = time_out_peer1(h);
  std::vector<Duration> waits;
  Instant last = lost_at;
  int asks = 0;
  for (int i = 0; i < 100 && !h.core.lost_peers().empty(); ++i) {
    auto timers = heal_timers(h);
    REQUIRE(timers.size() == 1);
    h.clear();
    h.now = timers[0].at;
    waits.push_back(h.now - last);
    last = h.now;
    h.fire(timers[0].timer);
    if (!h.sent_to<Neighbor>(peer(1)).empty()) {
      ++asks;
      h.connect_failed(peer(1));  // nobody answers
    }
    h.receive(peer(2), Keepalive{});
  }
  REQUIRE(h.core.lost_peers().empty());
  CHECK(h.now - lost_at >= options.heal_forget_after);
  CHECK(h.now - lost_at <= options.heal_forget_after + options.heal_retry_max);
  REQUIRE(waits.size() >= 4);
  CHECK(waits[0] <= seconds(10));
  CHECK(waits[1] >= seconds(10));  // [b/2, b] with b = 20 s
  CHECK(waits[1] <= seconds(20));
  for (std::size_t i = 2; i < waits.size(); ++i) CHECK(waits[i] <= seconds(40));
  // 300 s at one ask per 20..40 s, after the first few shorter waits.
  CHECK(asks >= 8);
  CHECK(asks <= 20);
}

TEST_CASE("heal: a broken link is remembered, a graceful leaver and an evicted peer are not") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.make_active(peer(3));
  h.link_down(peer(1));
  CHECK(h.core.lost_peers() == std::vector<PeerId>{peer(1)});
  h.receive(peer(2), Disconnect{false});
  h.receive(peer(3), Disconnect{true});
  CHECK(h.core.lost_peers() == std::vector<PeerId>{peer(1)});
}

TEST_CASE("heal: a lost peer that later leaves gracefully is forgotten") {
  Harness h;
  h.make_active(peer(1));
  h.make_active(peer(2));
  h.link_down(peer(1));
  REQUIRE(h.core.lost_peers().size() == 1);
  h.link_up(peer(1));
  h.receive(peer(1), Disconnect{false});
  CHECK(h.core.lost_peers().empty());
}

TEST_CASE("heal: at most heal_memory lost peers are remembered, the oldest goes first; 0 disables") {
  Options options = quiet_options();
  options.heal_memory = 2;
  Harness h(options);
  for (int i = 1; i <= 4; ++i) h.make_active(peer(i));
  h.link_down(peer(1));
  h.link_down(peer(2));
  h.link_down(peer(3));
  CHECK(h.core.lost_peers() == std::vector<PeerId>{peer(2), peer(3)});

  options.heal_memory = 0;
  Harness off(options);
  off.make_active(peer(1));
  off.make_active(peer(2));
  off.clear();
  off.link_down(peer(1));
  CHECK(off.core.lost_peers().empty());
  CHECK(off.timers(TimerKind::heal).empty());
}

TEST_CASE("heal: a stable node schedules no heal timer and sends nothing extra") {
  Harness h;
  for (int i = 1; i <= 5; ++i) h.make_active(peer(i));
  h.clear();
  for (int s = 0; s < 120; ++s) {
    h.advance(h.core.options().keepalive_interval);
    for (int i = 1; i <= 5; ++i) h.receive(peer(i), Keepalive{});
    h.fire(Timer{TimerKind::keepalive});
  }
  CHECK(h.timers(TimerKind::heal).empty());
  CHECK(h.sent<Neighbor>().empty());
  CHECK(h.all<Connect>().empty());
}

TEST_CASE("heal: the probe alternative asks a random spare with high priority only when the active view is full") {
  Options options = quiet_options();
  options.probe_period = seconds(30);
  Harness h(options);
  REQUIRE(std::count_if(h.start_timers.begin(), h.start_timers.end(), [](const Output& o) {
            const auto* t = std::get_if<ScheduleTimer>(&o);
            return t && t->timer.kind == TimerKind::probe;
          }) == 1);
  h.make_active(peer(1));
  h.receive(peer(1), Shuffle{peer(9), 0, 1, {peer(7)}});
  REQUIRE(h.passive(peer(7)));
  h.clear();
  h.fire(Timer{TimerKind::probe});
  CHECK(h.sent_to<Neighbor>(peer(7)).empty());  // short of neighbours: fill_active's business
  for (int i = 2; i <= 5; ++i) h.make_active(peer(i));
  h.clear();
  h.fire(Timer{TimerKind::probe});
  const auto asked = h.sent<Neighbor>();  // one of the spares: 7, or 9 (the shuffle's origin)
  REQUIRE(asked.size() == 1);
  CHECK((asked[0].first == peer(7).address || asked[0].first == peer(9).address));
  CHECK(asked[0].second.priority == Priority::high);
  CHECK(h.timers(TimerKind::probe).size() == 1);
}

TEST_CASE("heal: options validate the healing settings") {
  Options o;
  CHECK(o.validate().empty());
  o.heal_retry_min = seconds(0);
  CHECK(o.validate().size() == 1);
  o = Options{};
  o.heal_retry_max = seconds(1);
  CHECK(o.validate().size() == 1);
  o = Options{};
  o.heal_forget_after = seconds(1);
  CHECK(o.validate().size() == 1);
  o = Options{};
  o.heal_memory = 5000;
  CHECK(o.validate().size() == 1);
  o = Options{};
  o.probe_period = seconds(-1);
  CHECK(o.validate().size() == 1);
  o = Options{};
  o.heal_memory = 0;
  o.heal_retry_min = seconds(0);  // healing off: its timings do not matter
  CHECK(o.validate().empty());
}
