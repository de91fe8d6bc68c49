// SPDX-License-Identifier: Apache-2.0
// The simulator's upper-layer channel: bytes on the simulated links and timers in virtual time.
#include <catch2/catch.hpp>

#include <vector>

#include "hypar/sim/simulator.hpp"

using namespace hypar;
using sim::Simulator;

namespace {

// Records everything the simulator hands to the layer.
struct Recorder final : sim::UpperLayer {
  struct Got {
    std::size_t node;
    std::size_t from;
    std::vector<std::uint8_t> bytes;
    Instant at;
  };
  std::vector<Got> messages;
  std::vector<std::pair<std::size_t, std::uint64_t>> timers;
  std::vector<Instant> timer_times;
  std::size_t peer_ups = 0;

  void on_app_event(std::size_t, const hyparview::Output& event, Instant) override {
    if (std::holds_alternative<hyparview::PeerUp>(event)) ++peer_ups;
  }
  void on_app_message(std::size_t node, std::size_t from, std::span<const std::uint8_t> bytes, Instant at) override {
    messages.push_back({node, from, {bytes.begin(), bytes.end()}, at});
  }
  void on_app_timer(std::size_t node, std::uint64_t cookie, Instant at) override {
    timers.emplace_back(node, cookie);
    timer_times.push_back(at);
  }
};

sim::Config quiet_config() {
  sim::Config config;
  config.options.keepalive_interval = Duration::zero();
  return config;
}

}  // namespace

TEST_CASE("upper layer: bytes travel in order on an open link and are dropped without one") {
  Simulator s(quiet_config());
  Recorder layer;
  s.attach(&layer);
  s.add_node();
  s.add_node();
  s.send_app(0, s.address_of(1), {9});  // no link yet: dropped
  s.join(1, {0});
  REQUIRE(s.run_for(seconds(1)));
  REQUIRE(layer.peer_ups == 2);  // both ends saw the other become an active peer
  REQUIRE(layer.messages.empty());

  for (std::uint8_t i = 0; i < 50; ++i) s.send_app(1, s.address_of(0), {i, i});
  REQUIRE(s.run_for(seconds(1)));
  REQUIRE(layer.messages.size() == 50);
  for (std::uint8_t i = 0; i < 50; ++i) {
    CHECK(layer.messages[i].node == 0);
    CHECK(layer.messages[i].from == 1);
    CHECK(layer.messages[i].bytes == std::vector<std::uint8_t>{i, i});
  }

  s.kill(0);
  s.send_app(1, s.address_of(0), {1});  // to a dead node: lost
  s.send_app(0, s.address_of(1), {2});  // from a dead node: never sent
  REQUIRE(s.run_for(seconds(1)));
  CHECK(layer.messages.size() == 50);
  s.attach(nullptr);
}

TEST_CASE("upper layer: timers fire at their instant, never for dead nodes, and count in the trace") {
  Simulator s(quiet_config());
  Recorder layer;
  s.attach(&layer);
  s.add_node();
  s.add_node();
  const std::uint64_t before = s.trace_hash();
  s.schedule_app_timer(0, s.now() + milliseconds(30), 7);
  s.schedule_app_timer(1, s.now() + milliseconds(20), 8);
  s.schedule_app_timer(1, s.now() - milliseconds(5), 9);  // in the past: now
  s.kill(1);
  s.schedule_app_timer(1, s.now() + milliseconds(1), 10);
  REQUIRE(s.run_for(seconds(1)));
  REQUIRE(layer.timers.size() == 1);
  CHECK(layer.timers[0] == std::pair<std::size_t, std::uint64_t>{0, 7});
  CHECK(layer.timer_times[0] == Instant{} + milliseconds(30));
  CHECK(s.trace_hash() != before);
  s.attach(nullptr);
}
