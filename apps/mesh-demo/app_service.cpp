// SPDX-License-Identifier: Apache-2.0
#include "app_service.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include "hypar/log.hpp"

namespace hypar::mesh_demo {
namespace {

constexpr std::size_t kMaxHelloBytes = 128;
constexpr std::size_t kMaxSessions = 1024;
constexpr auto kHelloTimeout = std::chrono::seconds(5);
constexpr std::string_view kHello = "HELLO ";

std::string peer_of(const asio::ip::tcp::socket& socket) {
  std::error_code error;
  const auto endpoint = socket.remote_endpoint(error);
  if (error) return "?";
  const std::string ip = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(endpoint.port());
}

}  // namespace

std::string hello_line(const Address& node) { return std::string(kHello) + node.to_string() + "\n"; }

AppService::AppService(const asio::any_io_executor& executor, const asio::ip::tcp::endpoint& at)
    : acceptor_(executor, at) {}

asio::awaitable<void> AppService::serve() {
  for (;;) {
    auto [error, client] = co_await acceptor_.async_accept(asio::experimental::as_tuple(asio::use_awaitable));
    if (error == asio::error::operation_aborted) co_return;
    if (error) {
      log::warn("mesh-demo: accept on the app service failed: {}", error.message());
      asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));  // e.g. out of descriptors
      co_await pause.async_wait(asio::use_awaitable);
      continue;
    }
    if (sessions_ >= kMaxSessions) {
      log::warn("mesh-demo: app service full ({} clients): closed {}", sessions_, peer_of(client));
      continue;  // `client` closes here
    }
    ++sessions_;
    asio::co_spawn(acceptor_.get_executor(), session(std::move(client)), asio::detached);
  }
}

// Never throws: every way a client can end is handled here. Touches `this` only between
// suspensions, never from a destructor (the frame may be destroyed with the io_context).
asio::awaitable<void> AppService::session(asio::ip::tcp::socket client) {
  using namespace asio::experimental::awaitable_operators;
  const std::string from = peer_of(client);
  std::string line;
  asio::steady_timer deadline(client.get_executor(), kHelloTimeout);
  const auto first = co_await (
      asio::async_read_until(client, asio::dynamic_buffer(line, kMaxHelloBytes), '\n',
                             asio::experimental::as_tuple(asio::use_awaitable)) ||
      deadline.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
  std::optional<Address> node;
  if (first.index() == 1) {
    log::warn("mesh-demo: app client {} sent no hello within {} s: closed", from, kHelloTimeout.count());
  } else if (const auto [error, n] = std::get<0>(first); error) {
    if (error == asio::error::not_found) {
      log::warn("mesh-demo: app client {}: no hello line in its first {} bytes: closed", from, kMaxHelloBytes);
    } else if (error != asio::error::eof) {
      log::warn("mesh-demo: app client {}: {}: closed", from, error.message());
    }
  } else {
    const std::string_view text = std::string_view(line).substr(0, n - 1);  // without the '\n'
    if (text.starts_with(kHello)) node = Address::parse(text.substr(kHello.size()));
    if (!node) log::warn("mesh-demo: app client {}: bad hello line: closed", from);
  }
  if (node) {
    ++inbound_[*node];
    std::array<char, 512> sink;  // whatever follows the hello is read and dropped
    for (;;) {
      auto [error, bytes] = co_await client.async_read_some(asio::buffer(sink),
                                                            asio::experimental::as_tuple(asio::use_awaitable));
      if (error) break;
    }
    if (--inbound_[*node] == 0) inbound_.erase(*node);
  }
  --sessions_;
}

std::vector<Address> AppService::inbound() const {
  std::vector<Address> out;
  for (const auto& [node, count] : inbound_) out.push_back(node);
  return out;
}

}  // namespace hypar::mesh_demo
