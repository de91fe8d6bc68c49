// SPDX-License-Identifier: Apache-2.0
#pragma once
// The demo's outbound application connection to an active peer's service (the Handle of its
// hypar::PartialMesh): dialled at the endpoint the peer advertises in its metadata key "app",
// greeted with "HELLO <our node address>\n" (app_service.hpp), closed when the peer leaves the
// active view.
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <memory>
#include <string>

#include "hypar/address.hpp"
#include "hypar/mesh/partial_mesh.hpp"
#include "hypar/time.hpp"

namespace hypar::mesh_demo {

inline constexpr const char* kAppKey = "app";  // the metadata key holding a node's service endpoint

struct AppLink {
  std::shared_ptr<asio::ip::tcp::socket> socket;
  std::string endpoint;  // the service it reaches, as advertised ("IP:PORT")
};

// Connects to `peer`'s service and sends the hello line. Throws std::runtime_error when the peer
// advertises no valid endpoint, the connect or the hello fails, or `timeout` passes first; honours
// Asio cancellation (the mesh cancels it when the peer goes down).
asio::awaitable<AppLink> connect_app(const MeshPeer& peer, const Address& self, Duration timeout);

// Closes the connection (the peer's service sees it end).
asio::awaitable<void> close_app(AppLink& link);

}  // namespace hypar::mesh_demo
