// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::Timer: a waitable timer on hypar::Clock with the interface subset of asio::steady_timer
// that the runtime uses (expires_at/expires_after/expiry/cancel/async_wait with any completion
// token, per-operation cancellation included). In real time it is an asio::steady_timer; while
// a VirtualClock is installed, its waits are kept by the virtual clock and completed when
// virtual time reaches their expiry (see clock.hpp).
#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <utility>

#include "hypar/runtime/clock.hpp"

namespace hypar {

namespace detail {
// A pending virtual wait, type-erased over its completion handler.
struct VirtualWait {
  virtual ~VirtualWait() = default;
  // Posts the handler with `error` to its executor. Called once.
  virtual void complete(asio::error_code error) = 0;
};

// The virtual clock's wait registry (clock.cpp). `owner` identifies the Timer; `context` is the
// execution context the wait completes on: when it shuts down, its waits are destroyed with it.
std::uint64_t add_virtual_wait(Instant at, const void* owner, const asio::any_io_executor& context,
                               std::unique_ptr<VirtualWait> wait);
std::size_t cancel_virtual_waits(const void* owner);
void cancel_virtual_wait(std::uint64_t id);

template <class Handler>
class VirtualWaitFor final : public VirtualWait {
 public:
  VirtualWaitFor(Handler handler, asio::any_io_executor io_executor)
      : handler_(std::move(handler)), io_executor_(std::move(io_executor)) {}
  void complete(asio::error_code error) override {
    auto slot = asio::get_associated_cancellation_slot(handler_);
    if (slot.is_connected()) slot.clear();
    auto executor = asio::get_associated_executor(handler_, io_executor_);
    asio::post(executor, [handler = std::move(handler_), error]() mutable { std::move(handler)(error); });
  }

 private:
  Handler handler_;
  asio::any_io_executor io_executor_;
};
}  // namespace detail

class Timer {
 public:
  using clock_type = Clock;
  using duration = Duration;
  using time_point = Instant;
  using executor_type = asio::any_io_executor;

  explicit Timer(const executor_type& executor) : real_(executor) {}
  Timer(const executor_type& executor, Instant at) : real_(executor, at), expiry_(at) {}
  Timer(const executor_type& executor, Duration after) : Timer(executor, Clock::now() + after) {}
  explicit Timer(asio::io_context& io) : Timer(io.get_executor()) {}
  Timer(asio::io_context& io, Instant at) : Timer(io.get_executor(), at) {}
  Timer(asio::io_context& io, Duration after) : Timer(io.get_executor(), after) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  executor_type get_executor() { return real_.get_executor(); }
  Instant expiry() const { return expiry_; }
  // Like asio: setting the expiry cancels pending waits; returns how many were cancelled.
  std::size_t expires_at(Instant at) {
    const std::size_t cancelled = cancel();
    expiry_ = at;
    real_.expires_at(at);
    return cancelled;
  }
  std::size_t expires_after(Duration after) { return expires_at(Clock::now() + after); }
  // Completes pending waits with asio::error::operation_aborted.
  std::size_t cancel() { return real_.cancel() + (Clock::is_virtual() ? detail::cancel_virtual_waits(this) : 0); }

  template <class CompletionToken>
  auto async_wait(CompletionToken&& token) {
    if (!Clock::is_virtual()) return real_.async_wait(std::forward<CompletionToken>(token));
    return asio::async_initiate<CompletionToken, void(asio::error_code)>(
        [this](auto handler) {
          using Handler = decltype(handler);
          auto slot = asio::get_associated_cancellation_slot(handler);
          auto wait = std::make_unique<detail::VirtualWaitFor<Handler>>(std::move(handler), real_.get_executor());
          const std::uint64_t id = detail::add_virtual_wait(expiry_, this, real_.get_executor(), std::move(wait));
          if (slot.is_connected()) {
            slot.assign([id](asio::cancellation_type) { detail::cancel_virtual_wait(id); });
          }
        },
        token);
  }

 private:
  asio::steady_timer real_;
  Instant expiry_{};
};

}  // namespace hypar
