// SPDX-License-Identifier: Apache-2.0
// The simulator's link model in the corner cases that once counted as anomalies: a dial given up
// (Close while opening) whose handshake is still on its way when the peer dials back. And a sweep
// of small failure experiments that must see no anomaly at all.
#include <catch2/catch.hpp>

#include <vector>

#include "hypar/sim/failure_experiment.hpp"
#include "hypar/sim/simulator.hpp"
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

// What each of two nodes saw from the other: link events, and ids of numbered messages.
struct Seen {
  std::vector<InputKind> kinds;
  std::vector<std::uint32_t> ids;
};

void record(std::vector<Seen>& seen, Simulator& s) {
  s.on_input([&seen](const InputEvent& e) {
    if (e.kind == InputKind::timer || e.peer != 1 - e.node) return;
    seen[e.node].kinds.push_back(e.kind);
    if (e.message) {
      if (const auto* r = std::get_if<ShuffleReply>(e.message)) seen[e.node].ids.push_back(r->id);
    }
  });
}

}  // namespace

TEST_CASE("link: a dial given up before its handshake arrived does not disturb the peer's own dial") {
  Simulator s(quiet_config(21));
  s.add_node();
  s.add_node();
  std::vector<Seen> seen(2);
  record(seen, s);
  s.inject(0, hyparview::Connect{s.address_of(1)});  // its handshake leaves now...
  s.inject(0, hyparview::Close{s.address_of(1)});    // ...and is given up at once
  s.inject(1, hyparview::Connect{s.address_of(0)});  // 1 dials before that handshake reaches it
  for (std::uint32_t id = 1; id <= 3; ++id) s.inject(1, numbered(s, 0, id));
  REQUIRE(s.run_for(seconds(1)));

  CHECK(s.anomalies() == 0);
  // 1 keeps its own connection: one link_up (its handshake's answer), nothing else.
  CHECK(seen[1].kinds == std::vector<InputKind>{InputKind::link_up});
  // 0 accepts it and gets every message 1 queued on it.
  CHECK(seen[0].kinds ==
        std::vector<InputKind>{InputKind::link_up, InputKind::received, InputKind::received, InputKind::received});
  CHECK(seen[0].ids == std::vector<std::uint32_t>{1, 2, 3});
  CHECK(s.open_links() == 1);
}

TEST_CASE("link: a node sharing a redial is not fooled by the handshake of the dial given up before it") {
  Simulator s(quiet_config(22));
  s.add_node();
  s.add_node();
  std::vector<Seen> seen(2);
  record(seen, s);
  s.inject(0, hyparview::Connect{s.address_of(1)});  // first dial
  s.inject(0, hyparview::Close{s.address_of(1)});    // given up
  s.inject(0, hyparview::Connect{s.address_of(1)});  // second dial, its handshake behind the first's
  s.inject(1, hyparview::Connect{s.address_of(0)});  // 1 shares the second dial
  for (std::uint32_t id = 1; id <= 3; ++id) s.inject(1, numbered(s, 0, id));  // held until it is up
  REQUIRE(s.run_for(seconds(1)));

  CHECK(s.anomalies() == 0);
  // The first dial's handshake must not bring 1's link up on the wrong connection (which lost
  // 1's messages and showed it link_up, link_down, link_up).
  CHECK(seen[1].kinds == std::vector<InputKind>{InputKind::link_up});
  CHECK(seen[0].kinds ==
        std::vector<InputKind>{InputKind::link_up, InputKind::received, InputKind::received, InputKind::received});
  CHECK(seen[0].ids == std::vector<std::uint32_t>{1, 2, 3});
  CHECK(s.open_links() == 1);
}

TEST_CASE("link model: no anomaly in small failure experiments across seeds") {
  // Seed 5 met the given-up dial during the overlay's build at this size (1 anomaly at every
  // level); the others are a wider net. About 0.3 s per run in a release build.
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    sim::FailureParams p;
    p.nodes = 300;
    p.rounds = 20;
    p.messages = 10;
    p.seed = seed;
    const sim::FailureResult r = sim::run_failure_level(p, 90.0);
    INFO("seed " << seed);
    CHECK(r.anomalies == 0);
    CHECK(r.late_messages == 0);
  }
}
