// SPDX-License-Identifier: Apache-2.0
#include "hypar/runtime/runtime.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/system_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hypar/log.hpp"
#include "hypar/runtime/exception_reason.hpp"
#include "hypar/runtime/notifier.hpp"
#include "hypar/runtime/task_group.hpp"
#include "hypar/runtime/timer.hpp"

using hypar::Duration;
using hypar::Runtime;
using hypar::TaskGroup;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

// Every test is bounded: a Runtime under a Watchdog, an io_context under run_for().
constexpr Duration kLimit = 20s;
// Timers that must never fire: a child still blocked on one fails the wall-time checks.
constexpr Duration kForever = 1h;
// "Promptly": far below kForever and kLimit, with room for slow sanitizer builds.
constexpr Duration kPrompt = 5s;

// Stops `runtime` if run() has not returned within `limit`.
class Watchdog {
 public:
  Watchdog(Runtime& runtime, Duration limit)
      : thread_([this, &runtime, limit] {
          std::unique_lock lock(mutex_);
          if (!cv_.wait_for(lock, limit, [this] { return dismissed_; })) {
            fired_ = true;
            runtime.stop();
          }
        }) {}
  ~Watchdog() { dismiss(); }
  // Returns true if the watchdog had to stop the runtime.
  bool dismiss() {
    {
      std::lock_guard lock(mutex_);
      dismissed_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
    return fired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool dismissed_ = false;
  bool fired_ = false;
  std::thread thread_;
};

// Runs the task make() returns on a fresh io_context for at most kLimit; rethrows what escapes it.
template <class F>
void run_bounded(F&& make) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, make(), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  io.run_for(kLimit);
  REQUIRE(done);
  if (error) std::rethrow_exception(error);
}

Duration elapsed_since(Clock::time_point start) { return Clock::now() - start; }

bool is_aborted(const asio::system_error& e) { return e.code() == asio::error::operation_aborted; }

// Silences the error logs of tests that provoke them on purpose.
struct QuietLogs {
  hypar::log::Level saved = hypar::log::level();
  QuietLogs() { hypar::log::set_level(hypar::log::Level::off); }
  ~QuietLogs() { hypar::log::set_level(saved); }
};

// ---- Runtime tasks --------------------------------------------------------------------------

struct ShardReport {
  std::thread::id thread;
  bool on_own_shard = false;
  bool on_other_shard = false;
};

asio::awaitable<void> report_thread(Runtime& runtime, std::size_t index,
                                    std::vector<ShardReport>& reports, std::atomic<int>& arrived) {
  co_await hypar::sleep_for(1ms);
  reports[index].thread = std::this_thread::get_id();
  reports[index].on_own_shard = runtime.shard(index).running_in_this_thread();
  reports[index].on_other_shard = runtime.shard(1 - index).running_in_this_thread();
  if (arrived.fetch_add(1) + 1 == 2) runtime.stop();
}

// Shards 0 and 1 pass a counter back and forth by posting; each hop runs on the other shard.
struct PingPong {
  Runtime* runtime = nullptr;
  int count = 0;  // touched by one shard at a time: each post hands it over
  int wrong_shard = 0;
  static constexpr int kHops = 1000;

  void hop(std::size_t here) {
    if (!runtime->shard(here).running_in_this_thread()) ++wrong_shard;
    if (++count == kHops) {
      runtime->stop();
      return;
    }
    const std::size_t there = 1 - here;
    runtime->post(there, [this, there] { hop(there); });
  }
};

asio::awaitable<void> stop_after(Runtime& runtime, Duration delay) {
  co_await hypar::sleep_for(delay);
  runtime.stop();
}

asio::awaitable<void> sleep_forever() { co_await hypar::sleep_for(kForever); }

asio::awaitable<void> fail_after(Duration delay) {
  co_await hypar::sleep_for(delay);
  throw std::runtime_error("boom");
}

}  // namespace

TEST_CASE("Runtime: default shard count is at least one", "[runtime]") {
  CHECK(Runtime::default_shard_count() >= 1);
  Runtime runtime;
  CHECK(runtime.size() == Runtime::default_shard_count());
  CHECK(runtime.shard(0).index() == 0);
}

TEST_CASE("Runtime: two shards run tasks on distinct threads", "[runtime]") {
  Runtime runtime(2);
  REQUIRE(runtime.size() == 2);
  std::vector<ShardReport> reports(2);
  std::atomic<int> arrived{0};
  runtime.spawn(0, report_thread(runtime, 0, reports, arrived));
  runtime.spawn(1, report_thread(runtime, 1, reports, arrived));
  Watchdog watchdog(runtime, kLimit);
  runtime.run();
  REQUIRE_FALSE(watchdog.dismiss());
  CHECK(arrived == 2);
  CHECK(reports[0].thread == std::this_thread::get_id());  // run()'s caller serves shard 0
  CHECK(reports[1].thread != reports[0].thread);
  for (const auto& r : reports) {
    CHECK(r.on_own_shard);
    CHECK_FALSE(r.on_other_shard);
  }
}

TEST_CASE("Runtime: shards talk by posting", "[runtime]") {
  Runtime runtime(2);
  PingPong game;
  game.runtime = &runtime;
  runtime.post(0, [&game] { game.hop(0); });
  Watchdog watchdog(runtime, kLimit);
  runtime.run();
  REQUIRE_FALSE(watchdog.dismiss());
  CHECK(game.count == PingPong::kHops);
  CHECK(game.wrong_shard == 0);
}

TEST_CASE("Runtime: stop() from a task ends run() while other shards wait on long timers",
          "[runtime]") {
  Runtime runtime(2);
  runtime.spawn(1, sleep_forever());
  runtime.spawn(0, sleep_forever());
  runtime.spawn(1, stop_after(runtime, 10ms));
  Watchdog watchdog(runtime, kLimit);
  const auto start = Clock::now();
  runtime.run();
  CHECK(elapsed_since(start) < kPrompt);
  REQUIRE_FALSE(watchdog.dismiss());
  CHECK(runtime.stopped());
  runtime.stop();  // idempotent
}

TEST_CASE("Runtime: stop() before run() makes run() return at once", "[runtime]") {
  Runtime runtime(2);
  runtime.spawn(0, sleep_forever());
  runtime.stop();
  Watchdog watchdog(runtime, kLimit);
  const auto start = Clock::now();
  runtime.run();
  CHECK(elapsed_since(start) < kPrompt);
  REQUIRE_FALSE(watchdog.dismiss());
}

TEST_CASE("Runtime: an exception escaping a task is reported by stopping the runtime",
          "[runtime]") {
  QuietLogs quiet;
  Runtime runtime(2);
  runtime.spawn(0, sleep_forever());
  SECTION("a spawned task") { runtime.spawn(1, fail_after(1ms)); }
  SECTION("a posted function") {
    runtime.post(1, [] { throw std::runtime_error("posted boom"); });
  }
  Watchdog watchdog(runtime, kLimit);
  runtime.run();
  REQUIRE_FALSE(watchdog.dismiss());
  CHECK(runtime.stopped());
}

// ---- TaskGroup --------------------------------------------------------------------------------

namespace {

asio::awaitable<void> sleep_then_record(Duration delay, int id, std::vector<int>& order) {
  co_await hypar::sleep_for(delay);
  order.push_back(id);
}

asio::awaitable<void> join_waits_for_all(std::vector<int>& order) {
  TaskGroup group(co_await asio::this_coro::executor);
  group.spawn(sleep_then_record(30ms, 0, order));
  group.spawn(sleep_then_record(10ms, 1, order));
  group.spawn(sleep_then_record(20ms, 2, order));
  CHECK(group.running() == 3);
  co_await group.join();
  order.push_back(-1);
  CHECK(group.running() == 0);
  co_await group.join();  // nothing running: completes at once
}

struct CancelStats {
  int aborted = 0;
  int finished = 0;
};

asio::awaitable<void> sleep_long(CancelStats& stats) {
  try {
    co_await hypar::sleep_for(kForever);
    ++stats.finished;
  } catch (const asio::system_error& e) {
    if (is_aborted(e)) ++stats.aborted;
    throw;
  }
}

// A raw Asio wait (no nested awaitable between the child and the timer).
asio::awaitable<void> raw_sleep_long(CancelStats& stats) {
  asio::steady_timer timer(co_await asio::this_coro::executor, kForever);
  auto [ec] = co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  if (ec == asio::error::operation_aborted) ++stats.aborted;
  if (!ec) ++stats.finished;
}

// Swallows the first cancellation, then awaits again: that co_await throws at once, because
// Asio's awaitables throw operation_aborted on co_await once their thread has been cancelled.
asio::awaitable<void> sleep_long_twice(CancelStats& stats) {
  co_await raw_sleep_long(stats);
  try {
    co_await hypar::sleep_for(kForever);
    ++stats.finished;
  } catch (const asio::system_error& e) {
    if (is_aborted(e)) ++stats.aborted;
    throw;
  }
}

asio::awaitable<void> read_blocked(asio::local::stream_protocol::socket& socket,
                                   CancelStats& stats) {
  std::array<char, 16> buffer{};
  try {
    (void)co_await socket.async_read_some(asio::buffer(buffer), asio::use_awaitable);
    ++stats.finished;
  } catch (const asio::system_error& e) {
    if (is_aborted(e)) ++stats.aborted;
    throw;
  }
}

asio::awaitable<void> cancel_blocked_children(CancelStats& stats) {
  const auto executor = co_await asio::this_coro::executor;
  asio::local::stream_protocol::socket a(executor);
  asio::local::stream_protocol::socket b(executor);
  asio::local::connect_pair(a, b);
  TaskGroup group(executor);
  group.spawn(sleep_long(stats));
  group.spawn(sleep_long(stats));
  group.spawn(sleep_long_twice(stats));
  group.spawn(read_blocked(a, stats));
  co_await hypar::sleep_for(10ms);
  CHECK(group.running() == 4);
  group.cancel();
  CHECK(group.cancelled());
  group.spawn(sleep_long(stats));  // spawned after cancel(): start cancelled
  group.spawn(raw_sleep_long(stats));
  co_await group.join();            // cancelled children are not failures
  CHECK(group.running() == 0);
  CHECK_FALSE(group.cancelled());
}

struct FailureLog {
  bool sibling_finished = false;
  CancelStats stats;
  std::string caught;
};

asio::awaitable<void> fail_with(Duration delay, bool logic) {
  co_await hypar::sleep_for(delay);
  if (logic) throw std::logic_error("second");
  throw std::runtime_error("boom");
}

asio::awaitable<void> finish_after(Duration delay, bool& finished) {
  co_await hypar::sleep_for(delay);
  finished = true;
}

asio::awaitable<void> join_rethrows(FailureLog& log, TaskGroup::Policy policy) {
  TaskGroup group(co_await asio::this_coro::executor, policy);
  group.spawn(fail_with(10ms, false));
  group.spawn(fail_with(20ms, true));
  if (policy == TaskGroup::Policy::wait_all) {
    group.spawn(finish_after(40ms, log.sibling_finished));
  } else {
    group.spawn(sleep_long(log.stats));
  }
  try {
    co_await group.join();
  } catch (const std::runtime_error& e) {
    log.caught = e.what();
  }
  CHECK(group.running() == 0);
}

struct Events {
  std::vector<std::string> list;
  void add(std::string e) { list.push_back(std::move(e)); }
};

asio::awaitable<void> leaf(Duration delay, Events& events, std::string name) {
  co_await hypar::sleep_for(delay);
  events.add(std::move(name));
}

asio::awaitable<void> parent_with_children(Events& events) {
  TaskGroup children(co_await asio::this_coro::executor);
  children.spawn(leaf(20ms, events, "child a"));
  children.spawn(leaf(10ms, events, "child b"));
  events.add("parent spawned");
  co_await children.join();
  events.add("parent end");
}

asio::awaitable<void> nested_groups(Events& events) {
  TaskGroup outer(co_await asio::this_coro::executor);
  outer.spawn(parent_with_children(events));
  co_await outer.join();
  events.add("outer joined");
}

asio::awaitable<void> parent_of_sleepers(Events& events, CancelStats& stats) {
  TaskGroup children(co_await asio::this_coro::executor);
  children.spawn(sleep_long(stats));
  children.spawn(sleep_long(stats));
  try {
    co_await children.join();
  } catch (const asio::system_error& e) {
    events.add(is_aborted(e) ? "join aborted" : "join failed");
    throw;
  }
}

asio::awaitable<void> cancel_the_joiner(Events& events, CancelStats& stats) {
  const bool completed =
      co_await hypar::with_timeout(parent_of_sleepers(events, stats), 20ms);
  CHECK_FALSE(completed);
  CHECK(stats.aborted == 2);  // the children ended before the parent did
  events.add("timed out");
}

asio::awaitable<void> throw_before_join(CancelStats& stats) {
  TaskGroup group(co_await asio::this_coro::executor);
  group.spawn(sleep_long(stats));
  group.spawn(sleep_long(stats));
  co_await hypar::sleep_for(1ms);
  throw std::runtime_error("before join");
}

asio::awaitable<void> group_destroyed_early(CancelStats& stats) {
  try {
    co_await throw_before_join(stats);
  } catch (const std::runtime_error&) {
  }
  co_await hypar::sleep_for(20ms);  // the detached children end on their own, promptly
}

asio::awaitable<int> value_after(Duration delay, int value) {
  co_await hypar::sleep_for(delay);
  co_return value;
}

asio::awaitable<int> int_fail_after(Duration delay) {
  co_await hypar::sleep_for(delay);
  throw std::runtime_error("int boom");
}

asio::awaitable<void> timeouts() {
  auto start = Clock::now();
  std::optional<int> v = co_await hypar::with_timeout(value_after(5ms, 42), 10s);
  REQUIRE(v);
  CHECK(*v == 42);
  CHECK(elapsed_since(start) < kPrompt);

  start = Clock::now();
  v = co_await hypar::with_timeout(value_after(kForever, 7), 20ms);
  CHECK_FALSE(v);
  CHECK(elapsed_since(start) < kPrompt);

  CHECK(co_await hypar::with_timeout(hypar::sleep_for(1ms), 10s));
  CHECK_FALSE(co_await hypar::with_timeout(sleep_forever(), 10ms));

  // A failure before the deadline comes out at once (it does not wait for the timer).
  start = Clock::now();
  std::string caught;
  try {
    (void)co_await hypar::with_timeout(int_fail_after(1ms), kForever);
  } catch (const std::runtime_error& e) {
    caught = e.what();
  }
  CHECK(caught == "int boom");
  caught.clear();
  try {
    (void)co_await hypar::with_timeout(fail_after(1ms), kForever);
  } catch (const std::runtime_error& e) {
    caught = e.what();
  }
  CHECK(caught == "boom");
  CHECK(elapsed_since(start) < kPrompt);
}

// A group on shard 0 whose children round-trip through shard 1.
struct CrossShard {
  Runtime* runtime = nullptr;
  int on_shard1 = 0;  // only touched on shard 1
  int joined_children = 0;
  static constexpr int kChildren = 8;
  static constexpr int kHops = 50;
};

asio::awaitable<void> hop_through_shard1(CrossShard& s) {
  for (int i = 0; i < CrossShard::kHops; ++i) {
    s.runtime->post(1, [&s] { ++s.on_shard1; });
    co_await asio::post(s.runtime->shard(1).executor(), asio::use_awaitable);  // back on shard 0
  }
}

asio::awaitable<void> cross_shard_group(CrossShard& s) {
  TaskGroup group(co_await asio::this_coro::executor);
  for (int i = 0; i < CrossShard::kChildren; ++i) group.spawn(hop_through_shard1(s));
  co_await group.join();
  s.joined_children = CrossShard::kChildren;
  s.runtime->post(1, [&s] { s.runtime->stop(); });  // after every increment queued on shard 1
}

}  // namespace

TEST_CASE("TaskGroup: join() waits for every child", "[task_group]") {
  std::vector<int> order;
  run_bounded([&] { return join_waits_for_all(order); });
  CHECK(order == std::vector<int>{1, 2, 0, -1});
}

TEST_CASE("TaskGroup: cancel() ends children blocked on timers and sockets promptly",
          "[task_group]") {
  CancelStats stats;
  const auto start = Clock::now();
  run_bounded([&] { return cancel_blocked_children(stats); });
  CHECK(elapsed_since(start) < kPrompt);
  // sleep_long_twice counts twice: its swallowed cancellation and the throw on its next wait.
  CHECK(stats.aborted == 7);
  CHECK(stats.finished == 0);
}

TEST_CASE("TaskGroup: join() rethrows the first failure after every child ended",
          "[task_group]") {
  FailureLog log;
  SECTION("wait_all: siblings go on") {
    run_bounded([&] { return join_rethrows(log, TaskGroup::Policy::wait_all); });
    CHECK(log.caught == "boom");
    CHECK(log.sibling_finished);
  }
  SECTION("cancel_on_error: siblings are cancelled") {
    const auto start = Clock::now();
    run_bounded([&] { return join_rethrows(log, TaskGroup::Policy::cancel_on_error); });
    CHECK(log.caught == "boom");
    CHECK(log.stats.aborted == 1);
    CHECK(elapsed_since(start) < kPrompt);
  }
}

TEST_CASE("TaskGroup: a task that joins its children ends after them", "[task_group]") {
  Events events;
  run_bounded([&] { return nested_groups(events); });
  CHECK(events.list == std::vector<std::string>{"parent spawned", "child b", "child a",
                                                "parent end", "outer joined"});
}

TEST_CASE("TaskGroup: cancelling the joiner cancels the children and still waits for them",
          "[task_group]") {
  Events events;
  CancelStats stats;
  const auto start = Clock::now();
  run_bounded([&] { return cancel_the_joiner(events, stats); });
  CHECK(elapsed_since(start) < kPrompt);
  CHECK(events.list == std::vector<std::string>{"join aborted", "timed out"});
}

TEST_CASE("TaskGroup: destroyed with running children, it cancels them", "[task_group]") {
  QuietLogs quiet;
  CancelStats stats;
  const auto start = Clock::now();
  run_bounded([&] { return group_destroyed_early(stats); });
  CHECK(elapsed_since(start) < kPrompt);
  CHECK(stats.aborted == 2);
}

TEST_CASE("TaskGroup: children on one shard talk to another shard", "[task_group][runtime]") {
  Runtime runtime(2);
  CrossShard s;
  s.runtime = &runtime;
  runtime.spawn(0, cross_shard_group(s));
  Watchdog watchdog(runtime, kLimit);
  runtime.run();
  REQUIRE_FALSE(watchdog.dismiss());
  CHECK(s.joined_children == CrossShard::kChildren);
  CHECK(s.on_shard1 == CrossShard::kChildren * CrossShard::kHops);
}

TEST_CASE("with_timeout: value, timeout and failure", "[timer]") {
  run_bounded([] { return timeouts(); });
}

namespace {
asio::awaitable<void> wait_and_count(hypar::Notifier& notifier, int& woken) {
  co_await notifier.wait();
  ++woken;
}
}  // namespace

TEST_CASE("notifier: notify wakes every current waiter, and an earlier notify wakes no later waiter") {
  asio::io_context io;
  hypar::Notifier notifier;
  int woken = 0;
  auto settle = [&io] {
    io.restart();
    io.run_for(std::chrono::milliseconds(20));
  };
  notifier.notify();  // nobody waits: nothing is remembered
  notifier.notify();
  asio::co_spawn(io, wait_and_count(notifier, woken), asio::detached);
  asio::co_spawn(io, wait_and_count(notifier, woken), asio::detached);
  settle();
  REQUIRE(woken == 0);
  notifier.notify();
  settle();
  REQUIRE(woken == 2);
  // A waiter that starts after that notify sleeps until the next one.
  asio::co_spawn(io, wait_and_count(notifier, woken), asio::detached);
  settle();
  REQUIRE(woken == 2);
  notifier.notify();
  settle();
  REQUIRE(woken == 3);
}

TEST_CASE("exception_reason: names the first failure of an awaitable || instead of \"multiple exceptions\"") {
  const std::runtime_error plain("connection reset by peer");
  REQUIRE(hypar::exception_reason(plain) == "connection reset by peer");
  const asio::multiple_exceptions both(std::make_exception_ptr(std::runtime_error("connection reset by peer")));
  REQUIRE(std::string(both.what()) != "connection reset by peer");
  REQUIRE(hypar::exception_reason(both) == "connection reset by peer");
  // Nested, and a first failure that is not a std::exception (asio's own text is kept).
  const asio::multiple_exceptions nested(std::make_exception_ptr(both));
  REQUIRE(hypar::exception_reason(nested) == "connection reset by peer");
  const asio::multiple_exceptions odd(std::make_exception_ptr(42));
  REQUIRE(hypar::exception_reason(odd) == odd.what());
}

// Asio's || reports two failed branches (say, an operation and its deadline cancelled at shutdown)
// as multiple_exceptions; exception_reason names the first.
namespace {
asio::awaitable<void> fail_after(std::chrono::milliseconds delay, const char* reason) {
  co_await hypar::sleep_for(delay);
  throw std::runtime_error(reason);
}
asio::awaitable<std::string> race_two_failures() {
  using namespace asio::experimental::awaitable_operators;
  try {
    co_await (fail_after(std::chrono::milliseconds(1), "handshake failed") ||
              fail_after(std::chrono::milliseconds(5), "deadline cancelled"));
  } catch (const std::exception& e) {
    co_return hypar::exception_reason(e);
  }
  co_return "no failure";
}
}  // namespace

TEST_CASE("exception_reason: two failed branches of || are named by the first failure") {
  asio::io_context io;
  auto result = asio::co_spawn(io, race_two_failures(), asio::use_future);
  io.run_for(std::chrono::seconds(2));
  REQUIRE(result.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  REQUIRE(result.get() == "handshake failed");
}
