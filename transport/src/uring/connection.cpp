// SPDX-License-Identifier: Apache-2.0
#include "connection.hpp"

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "../socket_address.hpp"
#include "ops.hpp"

namespace hypar::transport::uring {
namespace {

constexpr std::size_t kMaxSendBytes = std::size_t{1} << 30;  // a CQE result is an int32

[[noreturn]] void throw_error(const asio::error_code& error) { throw asio::system_error(error); }

}  // namespace

ConnectionState::ConnectionState(std::shared_ptr<Ring> ring, int fd) : ring_(std::move(ring)), fd_(fd) {
  recv_.owner = this;
  reader_.owner = this;
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // frames are coalesced by the sender
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&peer), &length) == 0) remote_ = from_sockaddr(peer);
}

std::string ConnectionState::remote() const { return remote_ ? remote_->to_string() : "?"; }

ConnectionState::~ConnectionState() {
  // Nothing of ours is in the kernel any more: every operation held a reference to this state.
  if (fd_ >= 0) ::close(fd_);
}

void ConnectionState::start() { arm_recv(); }

void ConnectionState::arm_recv() {
  if (closed_ || ended_ || error_ || starved_ || recv_state_ != RecvState::idle || ring_->closing()) return;
  try {
    ring_->queue(&recv_, [&](io_uring_sqe* sqe) {
      io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = Ring::kBufferGroup;
    });
  } catch (const std::system_error& e) {
    error_ = e.code();
    wake_reader();
    return;
  }
  recv_state_ = RecvState::armed;
  recv_keep_ = shared_from_this();
}

// Re-arms a receive that ended, unless this connection holds its share of the buffers: after the
// cap cancelled it, only once the reader has consumed half of them (no cancel/re-arm churn).
void ConnectionState::maybe_rearm() {
  const std::size_t cap = ring_->options().per_connection_buffers;
  if (capped_ ? (held_ > cap / 2 || copied_ > 0) : held_ >= cap) return;
  capped_ = false;
  arm_recv();
}

void ConnectionState::buffers_available() {
  starved_ = false;
  maybe_rearm();
}

void ConnectionState::on_recv(std::int32_t result, std::uint32_t flags) {
  const bool more = (flags & IORING_CQE_F_MORE) != 0;
  const bool dead = closed_ || ring_->closing();
  const std::size_t cap = ring_->options().per_connection_buffers;
  if ((flags & IORING_CQE_F_BUFFER) != 0) {
    const auto id = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    const auto length = static_cast<std::uint32_t>(result);
    if (result <= 0 || dead) {
      ring_->recycle(id);
    } else if (held_ < cap) {
      chunks_.push_back(Chunk{id, 0, length, {}});
      ++held_;
    } else {
      // Over its share (the kernel filled more buffers before our cancel took effect): copy the
      // bytes out and give the buffer straight back, so that the others are never starved.
      const auto bytes = ring_->buffer(id, length);
      if (chunks_.empty() || chunks_.back().buffer != kCopied || (lent_ && chunks_.size() == 1)) {
        chunks_.push_back(Chunk{kCopied, 0, 0, {}});
        ++copied_;
      }
      Chunk& chunk = chunks_.back();
      chunk.copy.insert(chunk.copy.end(), bytes.begin(), bytes.end());
      chunk.length += length;
      ring_->recycle(id);
    }
  }
  if (result == 0) {
    ended_ = true;
  } else if (result == -ENOBUFS) {
    if (!dead) {
      starved_ = true;
      ring_->wait_for_buffers(weak_from_this());
    }
  } else if (result < 0 && result != -ECANCELED && !error_) {
    error_ = asio::error_code(-result, asio::error::get_system_category());
  }
  if (!more) {
    recv_state_ = RecvState::idle;
    const auto keep = std::move(recv_keep_);  // may be the last owner: hold it to the end of this call
    if (dead) return;
    maybe_rearm();
    wake_reader();
    return;
  }
  if (dead && recv_state_ == RecvState::armed) {
    // Closed, yet the receive goes on: the peer still sends (shutdown ends it only once the socket
    // is drained). Cancel it rather than keep reading for a connection nobody wants.
    ring_->cancel(&recv_);
    recv_state_ = RecvState::cancelling;
    return;
  }
  if (recv_state_ == RecvState::armed && held_ >= cap) {
    ring_->cancel(&recv_);  // hold no more: the rest stays in the socket, TCP slows the peer
    recv_state_ = RecvState::cancelling;
    capped_ = true;
  }
  if (!dead) wake_reader();
}

void ConnectionState::release_lent() {
  if (!lent_) return;
  lent_ = false;
  assert(!chunks_.empty());
  pop_front();
  maybe_rearm();
}

std::span<const std::uint8_t> ConnectionState::bytes_of(const Chunk& chunk) const {
  if (chunk.buffer == kCopied) return std::span<const std::uint8_t>(chunk.copy).subspan(chunk.offset);
  return ring_->buffer(static_cast<std::uint16_t>(chunk.buffer), chunk.length).subspan(chunk.offset);
}

void ConnectionState::pop_front() {
  const Chunk& chunk = chunks_.front();
  if (chunk.buffer == kCopied) {
    --copied_;
  } else {
    ring_->recycle(static_cast<std::uint16_t>(chunk.buffer));
    --held_;
  }
  chunks_.pop_front();
}

std::size_t ConnectionState::take(std::span<std::uint8_t> out) {
  release_lent();
  if (closed_) throw_error(asio::error::bad_descriptor);
  std::size_t n = 0;
  while (n < out.size() && !chunks_.empty()) {
    Chunk& chunk = chunks_.front();
    const auto bytes = bytes_of(chunk);
    const std::size_t k = std::min(bytes.size(), out.size() - n);
    std::memcpy(out.data() + n, bytes.data(), k);
    n += k;
    chunk.offset += static_cast<std::uint32_t>(k);
    if (chunk.offset == chunk.length) pop_front();
  }
  if (n > 0) {
    maybe_rearm();
    return n;
  }
  if (error_) throw asio::system_error(error_);
  return 0;
}

std::span<const std::uint8_t> ConnectionState::lend() {
  release_lent();
  if (closed_) throw_error(asio::error::bad_descriptor);
  if (!chunks_.empty()) {
    lent_ = true;
    return bytes_of(chunks_.front());
  }
  if (error_) throw asio::system_error(error_);
  return {};
}

void ConnectionState::wake_reader() {
  if (reader_.handler && readable()) reader_.complete({}, false);
}

void ConnectionState::ReadWaiter::complete(const asio::error_code& error, bool post) {
  if (slot.is_connected()) slot.clear();
  owner->ring_->remove_waiter(*this);
  auto h = std::move(handler);
  if (post) {
    h.post(error);
  } else {
    h.dispatch(error);
  }
}

void ConnectionState::ReadWaiter::abandon() {
  if (slot.is_connected()) slot.clear();
  handler.reset();
}

template <class Token>
auto ConnectionState::async_wait_readable(Token&& token) {
  return asio::async_initiate<Token, void(asio::error_code)>(
      [this](auto handler) {
        const asio::any_io_executor fallback(ring_->executor());
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (readable() || ring_->closing()) {
          const asio::error_code error = readable() ? asio::error_code() : asio::error::operation_aborted;
          AnyHandler<asio::error_code>(std::move(handler), fallback).post(error);
          return;
        }
        assert(!reader_.handler && "one reader at a time");
        reader_.handler = AnyHandler<asio::error_code>(std::move(handler), fallback);
        ring_->add_waiter(reader_);
        reader_.slot = slot;
        if (slot.is_connected()) {
          slot.assign([this](asio::cancellation_type) {
            if (reader_.handler) reader_.complete(asio::error::operation_aborted, true);
          });
        }
      },
      token);
}

asio::awaitable<void> ConnectionState::send_all(std::span<const std::uint8_t> bytes) {
  auto self = shared_from_this();
  assert(!sending_ && "one write at a time");
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    // Closed before we started, or by close() while a partial send was in flight.
    if (closed_) throw_error(sent == 0 ? asio::error::bad_descriptor : asio::error::operation_aborted);
    const std::uint8_t* data = bytes.data() + sent;
    const std::size_t length = std::min(bytes.size() - sent, kMaxSendBytes);
    const int fd = fd_;
    asio::error_code error;
    sending_ = true;
    const int n = co_await async_submit(
        ring_, self,
        [fd, data, length](io_uring_sqe* sqe, SqeOp&) {
          io_uring_prep_send(sqe, fd, data, length, MSG_NOSIGNAL);
        },
        asio::redirect_error(asio::use_awaitable, error));
    sending_ = false;
    if (error) throw_error(closed_ ? asio::error::operation_aborted : error);  // EPIPE after our own close()
    sent += static_cast<std::size_t>(n);
  }
}

// A plain non-blocking send: a keepalive or a few control frames on an idle link go out without a
// submission, a completion and the coroutine awaiting it. Never beside a send_all() in flight, so
// the bytes keep their order.
std::size_t ConnectionState::send_now(std::span<const std::uint8_t> bytes) noexcept {
  if (closed_ || sending_ || fd_ < 0) return 0;
  const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

void ConnectionState::shutdown_send() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

void ConnectionState::close() {
  if (closed_) return;
  closed_ = true;
  lent_ = false;
  while (!chunks_.empty()) pop_front();
  if (reader_.handler) reader_.complete(asio::error::operation_aborted, true);
  if (fd_ >= 0) {
    // close() alone would not end the operations: they hold the file. Shutting the socket down
    // ends them: the receive sees end of stream once the socket is drained (on_recv cancels one
    // that still gets data), a send in flight fails (send_all reports it as aborted). No cancel
    // here: the kernel finds a request to cancel by walking a hash bucket of every armed request
    // of the ring (by fd: all of them), quadratic with thousands of connections on one ring.
    // What is queued for fd is submitted first, while fd is still ours.
    if (recv_state_ != RecvState::idle || sending_) ring_->submit_now();
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    fd_ = -1;
  }
}

// ---------------------------------------------------------------- UringConnection

asio::awaitable<std::size_t> UringConnection::read_some(std::span<std::uint8_t> buffer) {
  auto state = state_;
  state->release_lent();
  while (!state->readable()) co_await state->async_wait_readable(asio::use_awaitable);
  co_return state->take(buffer);
}

asio::awaitable<std::span<const std::uint8_t>> UringConnection::read_view() {
  auto state = state_;
  state->release_lent();
  while (!state->readable()) co_await state->async_wait_readable(asio::use_awaitable);
  co_return state->lend();
}

asio::awaitable<void> UringConnection::write_all(std::span<const std::uint8_t> bytes) {
  auto state = state_;
  co_await state->send_all(bytes);
}

}  // namespace hypar::transport::uring
