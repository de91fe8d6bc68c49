// SPDX-License-Identifier: Apache-2.0
#include "app_link.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <stdexcept>
#include <system_error>
#include <variant>

#include "app_service.hpp"
#include "args.hpp"

namespace hypar::mesh_demo {
namespace {

// Errors as values: awaitable_operators' || ends on the first branch that completes without
// throwing, so a refused connect must not throw (it would then wait for the deadline).
asio::awaitable<std::error_code> dial(asio::ip::tcp::socket& socket, asio::ip::tcp::endpoint at, std::string hello) {
  const auto [refused] = co_await socket.async_connect(at, asio::experimental::as_tuple(asio::use_awaitable));
  if (refused) co_return refused;
  const auto [failed, sent] = co_await asio::async_write(socket, asio::buffer(hello),
                                                         asio::experimental::as_tuple(asio::use_awaitable));
  co_return failed;
}

}  // namespace

asio::awaitable<AppLink> connect_app(const MeshPeer& peer, const Address& self, Duration timeout) {
  using namespace asio::experimental::awaitable_operators;
  const auto advertised = peer.metadata.find(kAppKey);
  if (advertised == peer.metadata.end()) throw std::runtime_error("it advertises no \"app\" endpoint");
  const auto endpoint = parse_endpoint(advertised->second);
  if (!endpoint || endpoint->port() == 0 || endpoint->address().is_unspecified()) {
    throw std::runtime_error("its \"app\" endpoint \"" + advertised->second + "\" is not IP:PORT");
  }
  const auto executor = co_await asio::this_coro::executor;
  AppLink link{.socket = std::make_shared<asio::ip::tcp::socket>(executor), .endpoint = advertised->second};
  asio::steady_timer deadline(executor, timeout);
  const auto first = co_await (dial(*link.socket, *endpoint, hello_line(self)) ||
                               deadline.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
  if (first.index() == 1) throw std::runtime_error("no connection to " + link.endpoint + " in time");
  if (const std::error_code error = std::get<0>(first)) {
    if (error == asio::error::operation_aborted) throw std::system_error(error);  // cancelled: the peer went down
    throw std::runtime_error(link.endpoint + ": " + error.message());
  }
  co_return link;
}

asio::awaitable<void> close_app(AppLink& link) {
  std::error_code ignored;
  link.socket->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  link.socket->close(ignored);
  co_return;
}

}  // namespace hypar::mesh_demo
