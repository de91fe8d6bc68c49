// SPDX-License-Identifier: Apache-2.0
#include "hypar/mesh/backoff.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <vector>

using namespace hypar;
using std::chrono::milliseconds;

TEST_CASE("backoff: waits double from min to max, each drawn from the upper half of its step") {
  Backoff backoff(milliseconds(100), milliseconds(1000), 7);
  const std::vector<long> steps{100, 200, 400, 800, 1000, 1000, 1000};
  for (long step : steps) {
    const auto wait = std::chrono::duration_cast<milliseconds>(backoff.next()).count();
    REQUIRE(wait >= step / 2);
    REQUIRE(wait <= step);
  }
  REQUIRE(backoff.failures() == steps.size());
  backoff.reset();
  REQUIRE(backoff.next() <= milliseconds(100));
}

TEST_CASE("backoff: the jitter spreads waits and depends on the seed alone") {
  Backoff a(milliseconds(1000), milliseconds(1000), 1);
  Backoff b(milliseconds(1000), milliseconds(1000), 1);
  Backoff c(milliseconds(1000), milliseconds(1000), 2);
  bool spread = false;
  bool seeds_differ = false;
  Duration first = a.next();
  REQUIRE(b.next() == first);
  seeds_differ |= c.next() != first;
  for (int i = 0; i < 20; ++i) {
    const Duration wait = a.next();
    REQUIRE(b.next() == wait);
    spread |= wait != first;
    seeds_differ |= c.next() != wait;
  }
  REQUIRE(spread);
  REQUIRE(seeds_differ);
}

TEST_CASE("backoff: bounds must be positive and ordered") {
  REQUIRE_THROWS_AS(Backoff(milliseconds(0), milliseconds(10), 1), std::invalid_argument);
  REQUIRE_THROWS_AS(Backoff(milliseconds(20), milliseconds(10), 1), std::invalid_argument);
}
