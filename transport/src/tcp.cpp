// SPDX-License-Identifier: Apache-2.0
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <array>
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
    socket_.non_blocking(true, ec);               // write_now() never waits
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

  // An idle connection (most of a large cluster's, between keepalives) holds no buffer: after a
  // read that drained the socket, the next read goes into a few bytes kept inline (a keepalive, a
  // small control frame), with no allocation and no extra system call; one that fills them reads
  // into the growing buffer next, as a busy connection always does.
  asio::awaitable<std::span<const std::uint8_t>> read_view() override {
    const bool idle = drained_ && drop_idle_view_buffer();
    const std::span<std::uint8_t> buffer = idle ? std::span<std::uint8_t>(idle_bytes_) : view_buffer();
    asio::error_code ec;
    const std::size_t n = co_await socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                                                           asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof) co_return std::span<const std::uint8_t>{};
    if (ec) throw asio::system_error(ec);
    drained_ = n < buffer.size();
    if (!idle) view_filled(n);
    co_return buffer.first(n);
  }

  asio::awaitable<void> write_all(std::span<const std::uint8_t> bytes) override {
    co_await asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), asio::use_awaitable);
  }

  // The socket is non-blocking: a full one answers would_block at once.
  std::size_t write_now(std::span<const std::uint8_t> bytes) noexcept override {
    asio::error_code ec;
    const std::size_t n = socket_.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
    return ec ? 0 : n;
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
  std::array<std::uint8_t, 64> idle_bytes_;  // an idle connection's reads (see read_view)
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
