// SPDX-License-Identifier: Apache-2.0
#pragma once
// A TCP connection on the uring backend.
//
// Receiving: one multishot recv per connection, into the ring's provided buffers. Each CQE's
// buffer is queued until the reader takes its bytes (read_some copies, read_view lends the
// buffer until the next call), then returned to the kernel. When the connection holds
// `per_connection_buffers` unread buffers its recv is cancelled, and bytes the kernel delivered
// before the cancel took effect are copied out so their buffers go straight back: one connection
// never holds more than its share of the ring. The recv is re-armed once the reader has consumed
// half of its share and every copied byte, and whenever a CQE comes without IORING_CQE_F_MORE
// for another reason (ENOBUFS: once buffers come back; CQ overflow: at once).
// Sending: one send in flight, MSG_NOSIGNAL, repeated until every byte is out (not MSG_WAITALL:
// it made the kernel's send side cost about twice the CPU per byte in the 256-connection fan-in).
// Closing: cancels the fd's operations, closes the fd; the state lives on (held by its in-flight
// operations) until their last CQE.
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "fifo.hpp"
#include "handler.hpp"
#include "hypar/transport/connection.hpp"
#include "ring.hpp"

namespace hypar::transport::uring {

class ConnectionState final : public std::enable_shared_from_this<ConnectionState>, public BufferWaiter {
 public:
  ConnectionState(std::shared_ptr<Ring> ring, int fd);
  ~ConnectionState();
  ConnectionState(const ConnectionState&) = delete;
  ConnectionState& operator=(const ConnectionState&) = delete;

  // Arms the receive. Call once the state is owned by a shared_ptr, on the loop's thread.
  void start();

  // True when a read would not wait: bytes are queued, or the stream ended or failed.
  bool readable() const { return !chunks_.empty() || ended_ || error_ || closed_; }
  // Copies queued bytes into `out`; 0 at end of stream; throws on a receive error or after close.
  // Precondition: readable().
  std::size_t take(std::span<std::uint8_t> out);
  // The next queued buffer's bytes, lent until the next take()/lend()/close(); empty at end of
  // stream; throws like take(). Precondition: readable().
  std::span<const std::uint8_t> lend();
  // Completes once readable() (at once if it is). Cancellable; one reader at a time.
  template <class Token>
  auto async_wait_readable(Token&& token);
  // Returns the buffer lent by lend(), if any, to the kernel.
  void release_lent();

  asio::awaitable<void> send_all(std::span<const std::uint8_t> bytes);
  std::size_t send_now(std::span<const std::uint8_t> bytes) noexcept;
  void shutdown_send();
  void close();
  std::string remote() const;  // "?" when the socket had no peer address

  void buffers_available() override;

 private:
  struct RecvCompletion final : Completion {
    ConnectionState* owner = nullptr;
    void on_cqe(std::int32_t result, std::uint32_t flags) override { owner->on_recv(result, flags); }
  };
  struct ReadWaiter final : Waiter {
    ConnectionState* owner = nullptr;
    AnyHandler<asio::error_code> handler;
    asio::cancellation_slot slot;
    void abandon() override;
    void complete(const asio::error_code& error, bool post);
  };
  static constexpr std::int32_t kCopied = -1;
  // Received bytes: a provided buffer (its id), or bytes copied out of buffers past the cap.
  struct Chunk {
    std::int32_t buffer;  // kCopied: the bytes are in `copy`
    std::uint32_t offset;
    std::uint32_t length;
    std::vector<std::uint8_t> copy;
  };
  enum class RecvState : std::uint8_t { idle, armed, cancelling };

  void arm_recv();
  void maybe_rearm();
  void on_recv(std::int32_t result, std::uint32_t flags);
  void wake_reader();
  std::span<const std::uint8_t> bytes_of(const Chunk& chunk) const;
  void pop_front();  // returns its buffer to the kernel

  std::shared_ptr<Ring> ring_;
  int fd_;
  std::optional<Address> remote_;  // formatted only when asked for (logs): kept as 20 bytes
  bool closed_ = false;

  RecvCompletion recv_;
  RecvState recv_state_ = RecvState::idle;
  std::shared_ptr<ConnectionState> recv_keep_;  // while the recv is in the kernel
  bool starved_ = false;                        // waiting for provided buffers
  Fifo<Chunk> chunks_;  // nothing allocated while no bytes wait (most connections, most of the time)
  std::size_t held_ = 0;    // chunks holding a provided buffer
  std::size_t copied_ = 0;  // chunks of copied bytes
  bool lent_ = false;    // chunks_.front() is lent out by lend()
  bool capped_ = false;  // the recv was cancelled for holding per_connection_buffers
  bool ended_ = false; // the peer ended its direction (after the queued chunks)
  std::error_code error_;
  ReadWaiter reader_;

  bool sending_ = false;
};

class UringConnection final : public Connection {
 public:
  explicit UringConnection(std::shared_ptr<ConnectionState> state) : state_(std::move(state)) {}
  ~UringConnection() override { state_->close(); }

  asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) override;
  asio::awaitable<std::span<const std::uint8_t>> read_view() override;
  asio::awaitable<void> write_all(std::span<const std::uint8_t> bytes) override;
  std::size_t write_now(std::span<const std::uint8_t> bytes) noexcept override { return state_->send_now(bytes); }
  void shutdown_send() override { state_->shutdown_send(); }
  void close() override { state_->close(); }
  std::string remote() const override { return state_->remote(); }

 private:
  std::shared_ptr<ConnectionState> state_;
};

}  // namespace hypar::transport::uring
