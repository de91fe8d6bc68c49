// SPDX-License-Identifier: Apache-2.0
#pragma once
// The runtime's clock. Every time read and every timer (hypar::Timer, clock_timer.hpp) of the
// node runtime and the transports goes through hypar::Clock, so that tests can run whole nodes
// in virtual time.
//
// Normally Clock::now() is std::chrono::steady_clock::now(). While a VirtualClock exists, time
// is virtual instead: it moves only when the VirtualClock moves it. A test drives its
// io_context with VirtualClock::run_until(): it runs every ready handler, then jumps straight to
// the next timer's expiry, so a minute of protocol time takes milliseconds and a run depends
// on its seeds alone, never on the machine's speed.
//
// Virtual time is process-wide: at most one VirtualClock at a time, and while it exists the
// io_context whose timers wait on it must be driven by run_until()/run_for() on one thread (a
// blocking io_context::run() would never see time move).
#include <asio/io_context.hpp>
#include <chrono>
#include <functional>

#include "hypar/time.hpp"

namespace hypar {

struct Clock {
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr bool is_steady = true;
  static time_point now() noexcept;
  // True while a VirtualClock is installed.
  static bool is_virtual() noexcept;
};

class VirtualClock {
 public:
  // Installs virtual time, starting at `start`. Throws std::logic_error if one is installed already.
  explicit VirtualClock(Instant start = Instant{} + std::chrono::hours(1));
  // Back to real time; timer waits still pending complete with operation_aborted when their
  // io_context next runs.
  ~VirtualClock();
  VirtualClock(const VirtualClock&) = delete;
  VirtualClock& operator=(const VirtualClock&) = delete;

  Instant now() const { return Clock::now(); }
  // Moves time forward by `d`; waits that become due complete on the next run_until/run_for.
  void advance(Duration d);

  // Runs `io`'s ready handlers, completing due timer waits in (expiry, order of waiting) order,
  // and jumps to the next expiry whenever nothing is ready. Returns true as soon as done()
  // holds, false once `timeout` of virtual time has passed (time is then exactly now+timeout).
  bool run_until(asio::io_context& io, const std::function<bool()>& done, Duration timeout);
  // Timer waits not yet completed (tests use it to check that nothing is left waiting).
  std::size_t pending_waits() const;
  // Runs `io` for exactly `duration` of virtual time.
  void run_for(asio::io_context& io, Duration duration);
};

}  // namespace hypar
