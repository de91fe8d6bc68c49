// SPDX-License-Identifier: Apache-2.0
#pragma once
// Timers for coroutines on any Asio executor (a Runtime shard, a test's io_context).
//
//   co_await hypar::sleep_for(milliseconds(50));
//   std::optional<Frame> f = co_await hypar::with_timeout(connection.read_frame(), seconds(5));
//   if (!f) { /* timed out; read_frame() was cancelled and has ended */ }
//
// Cancellation: both honour Asio per-operation cancellation. A cancelled sleep_for() throws
// asio::system_error(asio::error::operation_aborted); so does a cancelled with_timeout() (the
// operation and the timer are both cancelled and have ended when it throws).
#include <asio/awaitable.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include "hypar/runtime/clock_timer.hpp"
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

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

// Runs `operation` with a deadline `timeout` from now: its value, or std::nullopt if the deadline
// came first (the operation is then cancelled and has ended before this returns). An exception
// thrown by the operation before the deadline is rethrown.
template <class T>
asio::awaitable<std::optional<T>> with_timeout(asio::awaitable<T> operation, Duration timeout) {
  using namespace asio::experimental::awaitable_operators;
  auto result = co_await (detail::capture(std::move(operation)) || sleep_for(timeout));
  if (result.index() == 1) co_return std::nullopt;
  auto& outcome = std::get<0>(result);
  if (outcome.error) std::rethrow_exception(outcome.error);
  co_return std::move(outcome.value);
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
