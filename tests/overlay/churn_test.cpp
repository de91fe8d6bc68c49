// SPDX-License-Identifier: Apache-2.0
// Repair at scale: crash many nodes at once and check that the survivors' overlay heals.
#include <catch2/catch.hpp>

#include "hypar/sim/health.hpp"
#include "hypar/sim/scenarios.hpp"

using namespace hypar;

TEST_CASE("churn: after crashing half of 1,000 nodes the survivors heal within 30 s") {
  sim::Config config;  // default options: keepalive on
  config.seed = 5;
  sim::Simulator s(config);
  REQUIRE(sim::build_overlay(s, 1000, 10, milliseconds(10)));
  const sim::Health before = sim::measure_health(s);
  REQUIRE(before.connected);
  REQUIRE(before.symmetric);

  Rng rng(99);
  const auto killed = sim::kill_percent(s, 50, rng);
  REQUIRE(killed.size() == 500);
  REQUIRE(s.alive_count() == 500);
  const sim::Health right_after = sim::measure_health(s);
  REQUIRE(right_after.dead_in_active > 0);  // the crash is not yet noticed

  REQUIRE(s.run_for(seconds(30)));
  const sim::Health healed = sim::measure_health(s);
  CHECK(healed.alive == 500);
  CHECK(healed.dead_in_active == 0);
  CHECK(healed.connected);
  CHECK(healed.symmetric);
  CHECK(healed.full_active + healed.short_by_one >= 490);
  CHECK(s.anomalies() == 0);
}

TEST_CASE("churn: kill_percent picks distinct live nodes, deterministically") {
  auto pick = [](std::uint64_t seed) {
    sim::Simulator s(sim::Config{});
    for (int i = 0; i < 100; ++i) s.add_node();
    Rng rng(seed);
    auto first = sim::kill_percent(s, 30, rng);
    auto second = sim::kill_percent(s, 10, rng);  // 10% of all nodes, from the survivors
    REQUIRE(first.size() == 30);
    REQUIRE(second.size() == 10);
    for (auto n : second) REQUIRE(std::find(first.begin(), first.end(), n) == first.end());
    REQUIRE(s.alive_count() == 60);
    return first;
  };
  REQUIRE(pick(1) == pick(1));
  REQUIRE(pick(1) != pick(2));
}
