// SPDX-License-Identifier: Apache-2.0
#pragma once
// Timers for coroutines on any Asio executor (a Runtime shard, a test's io_context).
//
//   co_await hypar::sleep_for(milliseconds(50));
//   std::optional<Frame> f = co_await hypar::with_timeout(connection.read_frame(), seconds(5));
//   if (!f) { /* timed out; read_frame() was cancelled and has ended */ }
//
// A deadline that must not expire because this thread itself was not running (a stalled or
// starved event loop: a GC pause, a VM steal, a loaded host), while what it guards may already
// have arrived unread, uses the *_excluding_lag forms:
//
//   auto h = co_await hypar::with_timeout_excluding_lag(handshake(conn), seconds(2));
//
// Cancellation: all of them honour Asio per-operation cancellation. A cancelled sleep_for() throws
// asio::system_error(asio::error::operation_aborted); so does a cancelled with_timeout() (the
// operation and the timer are both cancelled and have ended when it throws).
#include <asio/awaitable.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include "hypar/runtime/clock_timer.hpp"
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>

#include "hypar/time.hpp"

namespace hypar {

// Suspends the calling coroutine for `duration` without blocking its thread.
inline asio::awaitable<void> sleep_for(Duration duration) {
  Timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

namespace detail {
// A wake-up later than this is the loop's own lag (a loop that keeps up wakes within microseconds,
// a busy one within a few milliseconds).
inline constexpr Duration kLagSlack = milliseconds(20);
}  // namespace detail

// Sleeps for `duration`, not counting the loop's lag at the deadline: a wake-up more than
// kLagSlack late sleeps once more, for the lateness but at most `duration`, so that work racing the
// sleep gets back the time the stall took from it. Ends at most 2 * duration + the lateness after
// it started.
inline asio::awaitable<void> sleep_excluding_lag(Duration duration) {
  const Instant due = Clock::now() + duration;
  Timer timer(co_await asio::this_coro::executor, due);
  co_await timer.async_wait(asio::use_awaitable);
  const Duration lateness = Clock::now() - due;
  if (lateness <= detail::kLagSlack) co_return;
  timer.expires_at(Clock::now() + std::min(lateness, duration));
  co_await timer.async_wait(asio::use_awaitable);
}

namespace detail {
// The outcome of an operation, kept as a value so that it always "succeeds" for `||`, which waits
// for the first *successful* branch: a failing operation must win the race, not wait for the timer.
template <class T>
struct Outcome {
  std::optional<T> value;
  std::exception_ptr error;
};
struct VoidOutcome {
  std::exception_ptr error;
};

template <class T>
asio::awaitable<Outcome<T>> capture(asio::awaitable<T> operation) {
  Outcome<T> outcome;
  try {
    outcome.value.emplace(co_await std::move(operation));
  } catch (...) {
    outcome.error = std::current_exception();
  }
  co_return outcome;
}

inline asio::awaitable<VoidOutcome> capture_void(asio::awaitable<void> operation) {
  VoidOutcome outcome;
  try {
    co_await std::move(operation);
  } catch (...) {
    outcome.error = std::current_exception();
  }
  co_return outcome;
}
}  // namespace detail

namespace detail {
// `operation`'s value, or std::nullopt if `deadline` ended first (the operation is then cancelled
// and has ended before this returns). An exception thrown by the operation first is rethrown.
template <class T>
asio::awaitable<std::optional<T>> before(asio::awaitable<T> operation, asio::awaitable<void> deadline) {
  using namespace asio::experimental::awaitable_operators;
  auto result = co_await (capture(std::move(operation)) || std::move(deadline));
  if (result.index() == 1) co_return std::nullopt;
  auto& outcome = std::get<0>(result);
  if (outcome.error) std::rethrow_exception(outcome.error);
  co_return std::move(outcome.value);
}
}  // namespace detail

// Runs `operation` with a deadline `timeout` from now: its value, or std::nullopt if the deadline
// came first (the operation is then cancelled and has ended before this returns). An exception
// thrown by the operation before the deadline is rethrown.
template <class T>
asio::awaitable<std::optional<T>> with_timeout(asio::awaitable<T> operation, Duration timeout) {
  return detail::before(std::move(operation), sleep_for(timeout));
}

// with_timeout() whose deadline excludes the loop's lag (sleep_excluding_lag): at most 2 * timeout
// plus the lateness.
template <class T>
asio::awaitable<std::optional<T>> with_timeout_excluding_lag(asio::awaitable<T> operation, Duration timeout) {
  return detail::before(std::move(operation), sleep_excluding_lag(timeout));
}

// with_timeout() for operations without a value: true if it completed before the deadline.
inline asio::awaitable<bool> with_timeout(asio::awaitable<void> operation, Duration timeout) {
  using namespace asio::experimental::awaitable_operators;
  auto result = co_await (detail::capture_void(std::move(operation)) || sleep_for(timeout));
  if (result.index() == 1) co_return false;
  if (std::get<0>(result).error) std::rethrow_exception(std::get<0>(result).error);
  co_return true;
}

}  // namespace hypar
