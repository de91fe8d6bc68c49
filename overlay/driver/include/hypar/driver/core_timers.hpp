// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::driver::CoreTimers<T>: the timers a sans-IO core asked for (its ScheduleTimer outputs),
// kept in a multimap by deadline and served by one runtime timer that is re-armed only when the
// earliest deadline moves. Timers are never cancelled: the core recognises stale ones.
//
// Use: schedule() each ScheduleTimer output; run `co_await timers.run(fire)` in one task of the
// owner, which calls fire(timer, now) for every due timer in deadline order (feed the core, then
// drain its outputs) until stop(). The owner keeps this object alive while run() is suspended.
// Single-threaded: call everything from the executor the timer was made on.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <map>

#include "hypar/runtime/clock.hpp"
#include "hypar/runtime/clock_timer.hpp"
#include "hypar/time.hpp"

namespace hypar::driver {

template <class CoreTimer>
class CoreTimers {
 public:
  explicit CoreTimers(const asio::any_io_executor& executor) : wakeup_(executor) {}

  // Arms `timer` for `at`; wakes run() when it is now the earliest.
  void schedule(const CoreTimer& timer, Instant at) {
    const bool earliest = timers_.empty() || at < timers_.begin()->first;
    timers_.emplace(at, timer);
    if (earliest) wakeup_.cancel();  // run() re-arms for the new deadline
  }

  // Ends run() at its next wake-up (now); pending timers never fire.
  void stop() {
    stopped_ = true;
    wakeup_.cancel();
  }

  std::size_t size() const { return timers_.size(); }

  // Until stop(): sleeps until the earliest deadline, then hands every due timer to
  // fire(const CoreTimer&, Instant now), earliest first. A timer scheduled by fire() for a time
  // already past fires in the same pass. Each fire gets the clock as it runs, not the pass's start:
  // carrying out one timer's outputs can feed the core again at a later Clock::now() (the
  // Broadcaster's peer_congested), and a core's inputs never go back in time.
  template <class Fire>
  asio::awaitable<void> run(Fire fire) {
    while (!stopped_) {
      wakeup_.expires_at(timers_.empty() ? Timer::time_point::max() : timers_.begin()->first);
      asio::error_code ec;  // operation_aborted: re-armed by schedule() or stop()
      co_await wakeup_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopped_) break;
      const Instant now = Clock::now();
      while (!timers_.empty() && timers_.begin()->first <= now) {
        const CoreTimer timer = timers_.begin()->second;
        timers_.erase(timers_.begin());
        fire(timer, Clock::now());
      }
    }
  }

 private:
  std::multimap<Instant, CoreTimer> timers_;
  Timer wakeup_;
  bool stopped_ = false;
};

}  // namespace hypar::driver
