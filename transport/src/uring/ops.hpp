// SPDX-License-Identifier: Apache-2.0
#pragma once
// One-shot uring operations (accept, connect, send) as Asio asynchronous operations:
//
//   int fd = co_await async_submit(ring, keep, [&](io_uring_sqe* sqe, SqeOp& op) {
//     io_uring_prep_accept(sqe, listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
//   }, asio::use_awaitable);
//
// The handler gets (error_code, int result): a negative CQE result becomes a system error code
// (ECANCELED is asio::error::operation_aborted). Per-operation cancellation (the handler's
// cancellation slot: awaitable operators, with_timeout) asks the kernel to cancel the SQE; the
// handler still runs only once the CQE came, so buffers the SQE points to stay valid until then.
// The operation's memory and `keep` (the state owning the file descriptor and buffers) live until
// that last CQE, even when the caller has gone.
#include <asio/async_result.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <sys/socket.h>

#include <memory>
#include <system_error>
#include <utility>

#include "handler.hpp"
#include "ring.hpp"

namespace hypar::transport::uring {

class SqeOp final : public Completion, public Waiter {
 public:
  template <class Handler>
  SqeOp(std::shared_ptr<Ring> ring, std::shared_ptr<void> keep, Handler&& handler)
      : ring_(std::move(ring)),
        keep_(std::move(keep)),
        handler_(std::forward<Handler>(handler), asio::any_io_executor(ring_->executor())) {}

  // Storage for a socket address the SQE points to (connect).
  sockaddr_storage address{};
  socklen_t address_length = 0;

  void listen_for_cancellation(asio::cancellation_slot slot) {
    slot_ = slot;
    if (slot_.is_connected()) {
      slot_.assign([this](asio::cancellation_type) { ring_->cancel(this); });
    }
  }

  void on_cqe(std::int32_t result, std::uint32_t) override {
    std::unique_ptr<SqeOp> self(this);  // the last CQE of a one-shot SQE
    if (slot_.is_connected()) slot_.clear();
    ring_->remove_waiter(*this);
    if (!handler_ || ring_->closing()) return;
    auto handler = std::move(handler_);
    const asio::error_code error = result < 0 ? asio::error_code(-result, asio::error::get_system_category()) : asio::error_code();
    self.reset();
    handler.dispatch(error, result < 0 ? 0 : result);
  }

  void abandon() override {
    if (slot_.is_connected()) slot_.clear();
    handler_.reset();  // memory stays until the CQE
  }

 private:
  std::shared_ptr<Ring> ring_;
  std::shared_ptr<void> keep_;
  AnyHandler<asio::error_code, int> handler_;
  asio::cancellation_slot slot_;
};

template <class Prepare, class Token>
auto async_submit(std::shared_ptr<Ring> ring, std::shared_ptr<void> keep, Prepare prepare, Token&& token) {
  return asio::async_initiate<Token, void(asio::error_code, int)>(
      [](auto handler, std::shared_ptr<Ring> r, std::shared_ptr<void> k, Prepare p) {
        asio::error_code error;
        if (r->closing()) {
          error = asio::error::operation_aborted;
        } else {
          try {
            r->start();
          } catch (const std::system_error& e) {
            error = e.code();
          }
        }
        if (error) {
          AnyHandler<asio::error_code, int>(std::move(handler), asio::any_io_executor(r->executor())).post(error, 0);
          return;
        }
        auto slot = asio::get_associated_cancellation_slot(handler);
        auto* op = new SqeOp(r, std::move(k), std::move(handler));
        try {
          r->queue(op, [&](io_uring_sqe* sqe) { p(sqe, *op); });
        } catch (...) {
          delete op;
          throw;
        }
        r->add_waiter(*op);
        op->listen_for_cancellation(slot);
      },
      token, std::move(ring), std::move(keep), std::move(prepare));
}

}  // namespace hypar::transport::uring
