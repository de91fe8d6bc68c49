// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::driver::CoreTimers<T>: the timers a sans-IO core asked for (its ScheduleTimer outputs),
// kept in a multimap by deadline and served by one runtime timer that is re-armed only when the
// earliest deadline moves. Timers are never cancelled: the core recognises stale ones.
// With a slack S > 0 the timer wakes at the first multiple of S (on the clock's own scale) at or
// after the earliest deadline, so timers fire up to S late: every CoreTimers of a process with the
// same slack wakes at the same instants, and many nodes on one event loop share one wake-up
// instead of one each (timer slack, as the kernel's for poll and nanosleep).
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
  explicit CoreTimers(const asio::any_io_executor& executor, Duration slack = Duration::zero())
      : wakeup_(executor), slack_(slack) {}

  // Arms `timer` for `at`; wakes run() when that moves its wake-up earlier.
  void schedule(const CoreTimer& timer, Instant at) {
    timers_.emplace(at, timer);
    if (wake_time(at) < wakeup_.expiry()) wakeup_.cancel();  // run() re-arms for the new deadline
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
      wakeup_.expires_at(timers_.empty() ? Timer::time_point::max() : wake_time(timers_.begin()->first));
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
  // The wake-up for a deadline: the deadline itself, or with a slack the next multiple of it.
  Instant wake_time(Instant deadline) const {
    if (slack_ <= Duration::zero()) return deadline;
    const auto since_epoch = deadline.time_since_epoch();
    const auto rounded = (since_epoch + slack_ - Duration(1)) / slack_ * slack_;
    return Instant(std::chrono::duration_cast<Instant::duration>(rounded));
  }

  std::multimap<Instant, CoreTimer> timers_;
  Timer wakeup_;
  Duration slack_;
  bool stopped_ = false;
};

}  // namespace hypar::driver
