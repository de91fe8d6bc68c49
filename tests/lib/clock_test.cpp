// SPDX-License-Identifier: Apache-2.0
// hypar::Clock and VirtualClock: timers of the runtime run on virtual time when it is installed.
#include "hypar/runtime/clock.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "hypar/runtime/timer.hpp"

using namespace hypar;
using namespace std::chrono_literals;

namespace {

asio::awaitable<void> sleep_then_record(Duration d, std::string name, std::vector<std::string>* log,
                                        std::vector<Instant>* times) {
  co_await sleep_for(d);
  log->push_back(name);
  times->push_back(Clock::now());
}

asio::awaitable<void> never(bool* ended) {
  co_await sleep_for(24h);
  *ended = true;
}

}  // namespace

TEST_CASE("Clock: real time moves by itself without a VirtualClock", "[clock]") {
  const Instant a = Clock::now();
  const Instant b = std::chrono::steady_clock::now();
  REQUIRE(b >= a);
  REQUIRE(b - a < 1s);
}

TEST_CASE("VirtualClock: time stands still until advanced, then returns to real time", "[clock]") {
  Instant start{};
  {
    VirtualClock clock(Instant{} + 5h);
    start = Clock::now();
    REQUIRE(start == Instant{} + 5h);
    REQUIRE(Clock::now() == start);
    clock.advance(1500ms);
    REQUIRE(Clock::now() == start + 1500ms);
    REQUIRE_THROWS_AS(VirtualClock(), std::logic_error);  // only one at a time
  }
  REQUIRE(Clock::now() != start + 1500ms);  // real again
}

TEST_CASE("VirtualClock: hours of sleeps finish in order, each at its virtual time", "[clock]") {
  VirtualClock clock;
  asio::io_context io;
  std::vector<std::string> order;
  std::vector<Instant> at;
  const Instant t0 = Clock::now();
  asio::co_spawn(io, sleep_then_record(3h, "late", &order, &at), asio::detached);
  asio::co_spawn(io, sleep_then_record(250ms, "early", &order, &at), asio::detached);
  asio::co_spawn(io, sleep_then_record(90s, "middle", &order, &at), asio::detached);
  REQUIRE(clock.run_until(io, [&] { return order.size() == 3; }, 4h));
  REQUIRE(order == std::vector<std::string>{"early", "middle", "late"});
  REQUIRE(at[0] - t0 == 250ms);
  REQUIRE(at[1] - t0 == 90s);
  REQUIRE(at[2] - t0 == 3h);
}

TEST_CASE("VirtualClock: run_until gives up after its virtual timeout", "[clock]") {
  VirtualClock clock;
  asio::io_context io;
  bool ended = false;
  asio::co_spawn(io, never(&ended), asio::detached);
  const Instant t0 = Clock::now();
  REQUIRE_FALSE(clock.run_until(io, [&] { return ended; }, 2s));
  REQUIRE_FALSE(ended);
  REQUIRE(Clock::now() - t0 == 2s);
}

TEST_CASE("VirtualClock: with_timeout decides by virtual time", "[clock]") {
  VirtualClock clock;
  asio::io_context io;
  std::optional<bool> fast, slow;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    fast = co_await with_timeout(sleep_for(4s), 5s);
    slow = co_await with_timeout(sleep_for(6s), 5s);
  }, asio::detached);
  REQUIRE(clock.run_until(io, [&] { return slow.has_value(); }, 20s));
  REQUIRE(*fast);
  REQUIRE_FALSE(*slow);
}

TEST_CASE("VirtualClock: cancel() and a new expiry abort a pending wait", "[clock]") {
  VirtualClock clock;
  asio::io_context io;
  Timer timer(io, 10s);
  std::vector<asio::error_code> results;
  timer.async_wait([&](asio::error_code ec) { results.push_back(ec); });
  clock.run_for(io, 1s);
  REQUIRE(results.empty());
  REQUIRE(clock.pending_waits() == 1);
  REQUIRE(timer.cancel() == 1);
  clock.run_for(io, 0s);
  REQUIRE(results == std::vector<asio::error_code>{asio::error::operation_aborted});
  REQUIRE(clock.pending_waits() == 0);
  timer.async_wait([&](asio::error_code ec) { results.push_back(ec); });
  REQUIRE(timer.expires_after(2s) == 1);
  timer.async_wait([&](asio::error_code ec) { results.push_back(ec); });
  clock.run_for(io, 3s);
  REQUIRE(results.size() == 3);
  REQUIRE(results[1] == asio::error::operation_aborted);
  REQUIRE(!results[2]);
}

TEST_CASE("VirtualClock: an io_context destroyed with coroutines asleep frees them", "[clock]") {
  VirtualClock clock;
  bool ended = false;
  {
    asio::io_context io;
    asio::co_spawn(io, never(&ended), asio::detached);
    clock.run_for(io, 1s);
  }  // ASan would report the coroutine frame leaked, or used after the context is gone
  REQUIRE_FALSE(ended);
}

TEST_CASE("VirtualClock: a deadline that fires late after a stall waits once more, for the lag", "[clock]") {
  VirtualClock clock;
  asio::io_context io;
  std::optional<std::optional<int>> answered_after_stall, never_answered;
  std::optional<Instant> gave_up_at;
  const Instant t0 = Clock::now();
  const auto answer_at = [](Duration after) -> asio::awaitable<int> {
    co_await sleep_for(after);
    co_return 7;
  };
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    answered_after_stall = co_await with_timeout_excluding_lag(answer_at(3500ms), 1s);
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    never_answered = co_await with_timeout_excluding_lag(answer_at(24h), 1s);
    gave_up_at = Clock::now();
  }, asio::detached);
  clock.run_for(io, 0s);  // both wait
  clock.advance(3s);      // the loop stalls: both deadlines (at 1 s) run 2 s late
  REQUIRE(clock.run_until(io, [&] { return answered_after_stall && never_answered; }, 10s));
  // The answer that came 0.5 s after the stall is taken; the deadline waited once more, for the
  // lateness capped at the timeout: 2 * timeout + lateness in all.
  REQUIRE(*answered_after_stall == 7);
  REQUIRE_FALSE(never_answered->has_value());
  REQUIRE(*gave_up_at - t0 == 4s);
}

TEST_CASE("VirtualClock: a deadline on time is not extended", "[clock]") {
  VirtualClock clock;
  asio::io_context io;
  std::optional<std::optional<int>> result;
  std::optional<Instant> at;
  const Instant t0 = Clock::now();
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    result = co_await with_timeout_excluding_lag([]() -> asio::awaitable<int> {
      co_await sleep_for(24h);
      co_return 1;
    }(), 1s);
    at = Clock::now();
  }, asio::detached);
  REQUIRE(clock.run_until(io, [&] { return result.has_value(); }, 10s));
  REQUIRE_FALSE(result->has_value());
  REQUIRE(*at - t0 == 1s);
}
