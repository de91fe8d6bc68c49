// SPDX-License-Identifier: Apache-2.0
// hypar::driver, the glue Node and Broadcaster drive their cores with: the core's timers on one
// runtime timer (in virtual time), logged task failures, seeding.
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "hypar/driver/core_timers.hpp"
#include "hypar/driver/driver.hpp"
#include "hypar/log.hpp"
#include "hypar/runtime/clock.hpp"
#include "hypar/runtime/task_group.hpp"

using namespace hypar;
using namespace std::chrono_literals;

namespace {

struct FakeTimer {
  int id = 0;
};

struct Fired {
  int id;
  Duration at;  // since the test's start
};

}  // namespace

// Carrying out a timer's outputs takes time, and may feed the core at a fresh Clock::now() (the
// Broadcaster tells its core of a congested peer from inside a send): the next timer of the same
// pass must not hand the core an earlier time. (A plumcast node aborted on "time never goes
// backwards" when an IHAVE flush congested a peer.)
TEST_CASE("driver: timers due in one pass never see time go backwards") {
  VirtualClock clock;
  asio::io_context io;
  const Instant start = Clock::now();
  driver::CoreTimers<FakeTimer> timers(io.get_executor());
  std::vector<Instant> seen;
  Instant latest_input = start;
  timers.schedule({1}, start + 1s);
  timers.schedule({2}, start + 1s);
  const auto timer_task = [&]() -> asio::awaitable<void> {
    co_await timers.run([&](const FakeTimer&, Instant now) {
      seen.push_back(now);
      CHECK(now >= latest_input);
      clock.advance(5ms);  // the time a timer's outputs take
      latest_input = Clock::now();  // an input fed to the core while carrying them out
    });
  };
  TaskGroup tasks(io.get_executor());
  tasks.spawn(timer_task());
  REQUIRE(clock.run_until(io, [&] { return seen.size() == 2; }, 10s));
  CHECK(seen[1] >= seen[0] + 5ms);
  timers.stop();
  clock.run_for(io, 1ms);
}

TEST_CASE("driver: CoreTimers fires each timer at its deadline, earliest first, until stopped") {
  VirtualClock clock;
  asio::io_context io;
  const Instant start = Clock::now();
  driver::CoreTimers<FakeTimer> timers(io.get_executor());
  std::vector<Fired> fired;
  bool ended = false;

  timers.schedule({3}, start + 3s);
  timers.schedule({1}, start + 1s);
  // (A named lambda: a coroutine's captures live in the closure, which must outlive it.)
  const auto timer_task = [&]() -> asio::awaitable<void> {
    co_await timers.run([&](const FakeTimer& t, Instant now) {
      fired.push_back({t.id, now - start});
      // What a core does from inside a timer: schedule more, one of them earlier than the
      // deadline the loop sleeps for, one already due.
      if (t.id == 1) {
        timers.schedule({2}, now + 1s);
        timers.schedule({10}, now);
      }
    });
    ended = true;
  };
  TaskGroup tasks(io.get_executor());
  tasks.spawn(timer_task());
  REQUIRE(timers.size() == 2);

  REQUIRE(clock.run_until(io, [&] { return fired.size() == 4; }, 10s));
  REQUIRE(fired.size() == 4);
  CHECK(fired[0].id == 1);
  CHECK(fired[0].at == 1s);
  CHECK(fired[1].id == 10);  // due at once: the same pass
  CHECK(fired[1].at == 1s);
  CHECK(fired[2].id == 2);
  CHECK(fired[2].at == 2s);
  CHECK(fired[3].id == 3);
  CHECK(fired[3].at == 3s);

  // A timer scheduled while the loop sleeps on nothing wakes it.
  timers.schedule({4}, Clock::now() + 5s);
  REQUIRE(clock.run_until(io, [&] { return fired.size() == 5; }, 10s));
  CHECK(fired[4].id == 4);
  CHECK(fired[4].at == 8s);

  // stop() ends run(); timers still pending never fire.
  timers.schedule({5}, Clock::now() + 1s);
  timers.stop();
  REQUIRE(clock.run_until(io, [&] { return ended; }, 10s));
  clock.run_for(io, 5s);
  CHECK(fired.size() == 5);
}

// Timer slack: many nodes on one event loop share a wake-up. Each timer fires at the first
// multiple of the slack (on the clock's scale) at or after its deadline, never before it.
TEST_CASE("driver: CoreTimers with a slack fires timers together at the next multiple of the slack") {
  VirtualClock clock;
  asio::io_context io;
  constexpr Duration slack = 20ms;
  const auto next_multiple = [&](Instant t) {
    const auto n = (t.time_since_epoch() + slack - Duration(1)) / slack;
    return Instant(n * slack);
  };
  const Instant start = Clock::now();
  driver::CoreTimers<FakeTimer> a(io.get_executor(), slack);
  driver::CoreTimers<FakeTimer> b(io.get_executor(), slack);
  std::vector<std::pair<int, Instant>> fired;
  // Deadlines 3 ms apart, the two timer sets interleaved: at most two distinct wake-ups.
  const Instant first = next_multiple(start + 100ms) + 1ms;
  a.schedule({1}, first);
  b.schedule({2}, first + 3ms);
  a.schedule({3}, first + 6ms);
  b.schedule({4}, first + slack);  // past the shared wake-up: the multiple after it
  const auto run = [&](driver::CoreTimers<FakeTimer>& timers) -> asio::awaitable<void> {
    co_await timers.run([&](const FakeTimer& t, Instant now) { fired.emplace_back(t.id, now); });
  };
  TaskGroup tasks(io.get_executor());
  tasks.spawn(run(a));
  tasks.spawn(run(b));
  REQUIRE(clock.run_until(io, [&] { return fired.size() == 4; }, 10s));
  std::sort(fired.begin(), fired.end());
  const Instant shared_wake = next_multiple(first);
  CHECK(fired[0].second == shared_wake);
  CHECK(fired[1].second == shared_wake);
  CHECK(fired[2].second == shared_wake);
  CHECK(fired[3].second == next_multiple(first + slack));
  CHECK(fired[3].second > shared_wake);
  for (const auto& [id, at] : fired) CHECK(at - start < 200ms);

  // A timer scheduled later but due earlier than the armed wake-up still moves it.
  a.schedule({5}, Clock::now() + 5s);
  a.schedule({6}, Clock::now() + 1s);
  REQUIRE(clock.run_until(io, [&] { return fired.size() == 5; }, 10s));
  CHECK(fired[4].first == 6);
  CHECK(fired[4].second == next_multiple(fired[3].second + 1s));
  a.stop();
  b.stop();
  clock.run_for(io, 1ms);
}

TEST_CASE("driver: spawn_logged logs a task's failure with its owner and name, and keeps it there") {
  std::vector<std::string> errors;
  log::set_sink([&](log::Level level, std::string_view, std::string_view message) {
    if (level == log::Level::error) errors.emplace_back(message);
  });
  asio::io_context io;
  bool sibling_ran = false;
  const auto failing = []() -> asio::awaitable<void> {
    throw std::runtime_error("disk on fire");
    co_return;
  };
  const auto sibling = [&]() -> asio::awaitable<void> {
    sibling_ran = true;
    co_return;
  };
  TaskGroup tasks(io.get_executor());
  driver::spawn_logged(tasks, failing(), "node-a", "state saver");
  driver::spawn_logged(tasks, sibling(), "node-a", "other");
  io.run();
  log::set_sink({});
  CHECK(sibling_ran);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("node-a: state saver failed") != std::string::npos);
  CHECK(errors[0].find("disk on fire") != std::string::npos);
}

TEST_CASE("driver: pick_seed keeps a configured seed and draws one otherwise") {
  CHECK(driver::pick_seed(42) == 42);
  // Two draws colliding would take a 1-in-2^64 chance.
  CHECK(driver::pick_seed(0) != driver::pick_seed(0));
}
