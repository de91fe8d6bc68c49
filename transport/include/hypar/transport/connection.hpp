// SPDX-License-Identifier: Apache-2.0
#pragma once
// The transport interface: listen/accept, connect, and a byte-stream Connection whose reads and
// writes carry many frames at once (the node coalesces frames into one write and parses many
// frames per read). Backends: tcp (Asio sockets, epoll), uring (io_uring), mem (in-memory).
//
// Errors: every awaitable throws asio::system_error on failure (connection reset, refused,
// cancelled); read_some returns 0 at end of stream. All methods run on the owning executor.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hypar/address.hpp"

namespace hypar::transport {

class Connection {
 public:
  virtual ~Connection() = default;
  // Reads what is available (at least one byte) into `buffer`; 0 at end of stream.
  virtual asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) = 0;
  // Waits for received bytes and returns a view of them (at least one byte); empty at end of
  // stream. The view stays valid until the next read_view(), read_some() or close() on this
  // connection; the caller consumes all of it (keeps a copy of what it still needs, e.g. a partial
  // frame). Do not mix with pending read_some() calls: one reader at a time.
  // Backends that receive into their own buffers return those without a copy (uring: the
  // provided buffer itself, handed back to the kernel at the next call). The default reads into a
  // buffer owned by the Connection with read_some().
  virtual asio::awaitable<std::span<const std::uint8_t>> read_view();
  // Writes all of `bytes` (usually many frames).
  virtual asio::awaitable<void> write_all(std::span<const std::uint8_t> bytes) = 0;
  // Writes what the kernel takes at once, without waiting and without a coroutine: the number of
  // bytes written, 0 when the socket is full, on any error, or when the backend has no such path
  // (the default). The caller writes the rest with write_all(), which reports an error. Never
  // while a write_all() is in progress.
  virtual std::size_t write_now(std::span<const std::uint8_t> /*bytes*/) noexcept { return 0; }
  // Ends our direction of the stream (the peer reads end of stream) but keeps reading ours.
  virtual void shutdown_send() = 0;
  // Cancels pending operations and closes; idempotent.
  virtual void close() = 0;
  // The remote endpoint as seen by the socket ("IP:PORT"), for logs.
  virtual std::string remote() const = 0;
  // Why the peer may not claim `advertised` (the address in its HELLO), or nullopt: a TLS
  // connection with name verification requires the peer's certificate to name it
  // (hypar/transport/tls.hpp). Plain connections accept any address.
  virtual std::optional<std::string> peer_address_problem(const Address& /*advertised*/) const { return std::nullopt; }
  // Bytes the default read_view() buffer holds now (0 while an idle tcp connection waits).
  std::size_t view_buffer_bytes() const { return view_allocated_; }

 protected:
  // The default read_view()'s buffer, for backends that fill it their own way: view_buffer() is
  // the buffer for the next read (allocated or resized as needed), view_filled(n) records a read
  // of n bytes into it. drop_idle_view_buffer() frees it when the next read's size is the minimum
  // (the connection is not busy) and says so: a connection waiting for its next keepalive then
  // holds no buffer.
  std::span<std::uint8_t> view_buffer();
  void view_filled(std::size_t n);
  bool drop_idle_view_buffer();

 private:
  // The default read_view()'s buffer: allocated at the first read, 1 KiB, doubled after a read
  // that fills it (up to 64 KiB), halved after 16 reads in a row that use less than a quarter.
  std::unique_ptr<std::uint8_t[]> view_buffer_;
  std::size_t view_allocated_ = 0;  // view_buffer_'s size
  std::size_t view_wanted_ = 0;     // the next read's (applied at the next read: the view lives until then)
  std::uint8_t view_small_reads_ = 0;
};

class Listener {
 public:
  virtual ~Listener() = default;
  virtual asio::awaitable<std::unique_ptr<Connection>> accept() = 0;
  // The bound address (with the real port when listening on port 0).
  virtual Address local_address() const = 0;
  virtual void close() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Throws std::system_error when the address cannot be bound.
  virtual std::unique_ptr<Listener> listen(const Address& address) = 0;
  virtual asio::awaitable<std::unique_ptr<Connection>> connect(const Address& address) = 0;
  virtual const char* name() const = 0;
};

// The portable backend: Asio TCP sockets (epoll on Linux), TCP_NODELAY set.
std::unique_ptr<Transport> make_tcp_transport(asio::any_io_executor executor);

// The io_uring backend (hypar/transport/uring.hpp), TCP_NODELAY set. `executor` must belong to an
// asio::io_context run by one thread. Throws std::system_error, saying why, when io_uring cannot
// be set up on this machine or hypar was built without liburing (HYPAR_WITH_URING).
std::unique_ptr<Transport> make_uring_transport(asio::any_io_executor executor);

// uring where it works, else tcp (epoll); the reason for falling back is logged once per process
// (hypar::log::warn). name() tells which one was chosen.
std::unique_ptr<Transport> make_default_transport(asio::any_io_executor executor);

}  // namespace hypar::transport
