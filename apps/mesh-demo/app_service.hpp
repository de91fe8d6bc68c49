// SPDX-License-Identifier: Apache-2.0
#pragma once
// The demo's application service: a TCP listener whose clients are the application connections of
// other nodes. A client first sends one line "HELLO IP:PORT\n" (its node address), then nothing
// it sends matters (read and dropped) until it closes. The service tracks which nodes are
// connected to it now (inbound), for the mesh lines.
//
// Hostile clients: the hello line is bounded (128 bytes) and must arrive within 5 s, at most 1024
// clients are served at once; anything else is logged and the client closed.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <map>
#include <vector>

#include "hypar/address.hpp"

namespace hypar::mesh_demo {

class AppService {
 public:
  // Listens at once; throws std::system_error when it cannot.
  AppService(const asio::any_io_executor& executor, const asio::ip::tcp::endpoint& at);
  AppService(const AppService&) = delete;
  AppService& operator=(const AppService&) = delete;

  asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  // Accepts clients until the io_context stops. The service must outlive the io_context's run.
  asio::awaitable<void> serve();

  // The nodes connected to this service now (said hello, not closed), in address order.
  std::vector<Address> inbound() const;

 private:
  asio::awaitable<void> session(asio::ip::tcp::socket client);

  asio::ip::tcp::acceptor acceptor_;
  std::map<Address, int> inbound_;  // node -> its open connections (two while one replaces another)
  std::size_t sessions_ = 0;
};

// The line a client sends first, with its trailing '\n'.
std::string hello_line(const Address& node);

}  // namespace hypar::mesh_demo
