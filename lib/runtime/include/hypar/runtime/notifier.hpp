// SPDX-License-Identifier: Apache-2.0
#pragma once
// Wakes coroutines waiting for a condition on one single-threaded executor (a condition
// variable without a mutex). Waiters re-check their condition in a loop:
//   while (!ready()) co_await notifier.wait();
// notify() wakes every current waiter; a later wait() blocks again until the next notify().
// notify() with nobody waiting costs a branch: hot paths (one notify per queued message) may call
// it freely. A Notifier nobody ever waited on holds no timer (one per peer link and most are never
// waited on): the timer is made at the first wait(), on the waiter's executor.
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>

namespace hypar {

class Notifier {
 public:
  Notifier() = default;

  asio::awaitable<void> wait() {
    if (!timer_) {
      timer_ = std::make_unique<asio::steady_timer>(co_await asio::this_coro::executor,
                                                    asio::steady_timer::time_point::max());
    }
    asio::error_code ignored;  // operation_aborted is the wake-up
    armed_ = true;
    co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  void notify() {
    if (!armed_) return;
    armed_ = false;
    timer_->cancel();
  }

 private:
  std::unique_ptr<asio::steady_timer> timer_;  // from the first wait() on
  // Set when a wait starts, cleared by notify(). A waiter cancelled some other way leaves it set,
  // which costs one needless cancel() at the next notify(), never a missed wake-up.
  bool armed_ = false;
};

}  // namespace hypar
