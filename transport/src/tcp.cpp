// SPDX-License-Identifier: Apache-2.0
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstring>
#include <optional>

#include "hypar/transport/connection.hpp"

namespace hypar::transport {
namespace {

using asio::ip::tcp;

tcp::endpoint to_endpoint(const Address& a) {
  if (a.family == Address::Family::v4) {
    asio::ip::address_v4::bytes_type bytes;
    std::memcpy(bytes.data(), a.ip.data(), 4);
    return {asio::ip::address_v4(bytes), a.port};
  }
  asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), a.ip.data(), 16);
  return {asio::ip::address_v6(bytes), a.port};
}

Address from_endpoint(const tcp::endpoint& e) {
  Address a;
  if (e.address().is_v4()) {
    const auto bytes = e.address().to_v4().to_bytes();
    std::memcpy(a.ip.data(), bytes.data(), 4);
  } else {
    a.family = Address::Family::v6;
    const auto bytes = e.address().to_v6().to_bytes();
    std::memcpy(a.ip.data(), bytes.data(), 16);
  }
  a.port = e.port();
  return a;
}

class TcpConnection final : public Connection {
 public:
  explicit TcpConnection(tcp::socket socket) : socket_(std::move(socket)) {
    asio::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);  // frames are coalesced by the sender already
    socket_.non_blocking(true, ec);               // read_view reads after a readiness wait
    const auto endpoint = socket_.remote_endpoint(ec);
    if (!ec) remote_ = from_endpoint(endpoint);
  }
  ~TcpConnection() override { close(); }

  asio::awaitable<std::size_t> read_some(std::span<std::uint8_t> buffer) override {
    asio::error_code ec;
    const std::size_t n =
        co_await socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof) co_return 0;
    if (ec) throw asio::system_error(ec);
    co_return n;
  }

  // An idle connection (most of a large cluster's, between keepalives) waits for bytes without a
  // buffer: after a read that drained the socket, it waits for readability, then reads. A busy one
  // reads into its buffer as before. (Readability is an edge: it is awaited only once the socket
  // was drained, so bytes that arrived before cannot be missed; a stale wake-up reads nothing.)
  asio::awaitable<std::span<const std::uint8_t>> read_view() override {
    for (;;) {
      const bool idle = drained_ && drop_idle_view_buffer();
      if (idle) co_await socket_.async_wait(tcp::socket::wait_read, asio::use_awaitable);
      const std::span<std::uint8_t> buffer = view_buffer();
      asio::error_code ec;
      std::size_t n = 0;
      if (idle) {
        n = socket_.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
      } else {
        n = co_await socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                             asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
      if (ec == asio::error::eof) co_return std::span<const std::uint8_t>{};
      if (ec) throw asio::system_error(ec);
      drained_ = n < buffer.size();
      view_filled(n);
      co_return buffer.first(n);
    }
  }

  asio::awaitable<void> write_all(std::span<const std::uint8_t> bytes) override {
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
  }

  void shutdown_send() override {
    asio::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
  }

  void close() override {
    asio::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  std::string remote() const override { return remote_ ? remote_->to_string() : "?"; }

 private:
  tcp::socket socket_;
  std::optional<Address> remote_;  // formatted only when asked for (logs): kept as 20 bytes
  bool drained_ = false;  // the last read_view left the socket empty
};

class TcpListener final : public Listener {
 public:
  TcpListener(asio::any_io_executor executor, const Address& address) : acceptor_(executor) {
    const auto endpoint = to_endpoint(address);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }
  asio::awaitable<std::unique_ptr<Connection>> accept() override {
    tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
    co_return std::make_unique<TcpConnection>(std::move(socket));
  }
  Address local_address() const override { return from_endpoint(acceptor_.local_endpoint()); }
  void close() override {
    asio::error_code ec;
    acceptor_.close(ec);
  }

 private:
  tcp::acceptor acceptor_;
};

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  std::unique_ptr<Listener> listen(const Address& address) override {
    return std::make_unique<TcpListener>(executor_, address);
  }
  asio::awaitable<std::unique_ptr<Connection>> connect(const Address& address) override {
    tcp::socket socket(executor_);
    co_await socket.async_connect(to_endpoint(address), asio::use_awaitable);
    co_return std::make_unique<TcpConnection>(std::move(socket));
  }
  const char* name() const override { return "epoll"; }

 private:
  asio::any_io_executor executor_;
};

}  // namespace

std::unique_ptr<Transport> make_tcp_transport(asio::any_io_executor executor) {
  return std::make_unique<TcpTransport>(std::move(executor));
}

}  // namespace hypar::transport
