// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::TaskGroup: structured concurrency for Asio coroutines. A task starts helpers in a group
// and joins them before it ends, so a task's children always end before it does:
//
//   asio::awaitable<void> serve(Listener& listener) {
//     hypar::TaskGroup children(co_await asio::this_coro::executor);
//     children.spawn(accept_loop(listener, children));  // children may spawn siblings
//     children.spawn(heartbeat());
//     co_await stop_requested();
//     children.cancel();       // ends children blocked in timers or sockets promptly
//     co_await children.join(); // waits for every child; rethrows the first failure
//   }
//
// Threads: a group and its children run on one executor, which must be single-threaded (a Runtime
// shard, an io_context run by one thread, or a strand). Call every member from that executor.
//
// Cancellation: cancel() emits asio::cancellation_type::terminal to every running child through
// the cancellation slot bound to it, and marks the group cancelled so that children spawned later
// start cancelled. Cancelling the task blocked in join() cancels the children too; join() then
// still waits for all of them before it throws asio::system_error(operation_aborted).
// Asio cancellation is edge-triggered: the operation a child is blocked in fails with
// operation_aborted, and afterwards every co_await of a nested awaitable throws it, but a raw
// Asio operation started after a child swallowed the cancellation is not cancelled again. So a
// child that catches operation_aborted should end (rethrow or return), not block again.
//
// Errors: a child's exception is captured; join() rethrows the first one once every child has
// ended. An asio::system_error(operation_aborted) from a child after the group was cancelled is
// the expected end of a cancelled child, not a failure. With Policy::cancel_on_error, the first
// failure also cancels the siblings (fail fast); with Policy::wait_all (the default) they go on.
//
// Lifetime: destroy the group only after join() returned (or before any spawn()). A group
// destroyed with children still running -- a frame destroyed during io_context shutdown, or an
// exception thrown past the join() -- cancels them and lets them finish detached; they must then
// not touch the destroyed frame, so always join on the normal path.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>

#include <cstddef>
#include <exception>
#include <list>
#include <memory>

namespace hypar {

class TaskGroup {
 public:
  enum class Policy {
    wait_all,         // a failing child does not affect its siblings
    cancel_on_error,  // the first failing child cancels the others
  };

  explicit TaskGroup(asio::any_io_executor executor, Policy policy = Policy::wait_all);
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `child` on the group's executor. Like asio::co_spawn from inside the executor, the
  // child runs inline up to its first suspension before spawn() returns; its completion
  // (and any exception it throws, even before suspending) is always reported later, never inline.
  void spawn(asio::awaitable<void> child);

  // Completes once no child is running (at once if none is). Rethrows the first child failure.
  // Afterwards the group is empty, not cancelled and reusable. One joiner at a time.
  asio::awaitable<void> join();

  // Requests cancellation of every running child (and of children spawned until the next join()
  // returns). Does not wait: follow with join().
  void cancel(asio::cancellation_type type = asio::cancellation_type::terminal);

  std::size_t running() const;
  bool cancelled() const;
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  struct State;

  asio::any_io_executor executor_;
  std::shared_ptr<State> state_;  // shared with the children's completion handlers
};

}  // namespace hypar
