// SPDX-License-Identifier: Apache-2.0
#pragma once
// Helpers for whole-node tests over loopback TCP in one process.
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

#include "hypar/node/node.hpp"
#include "skip.hpp"

namespace hypar::testing {

inline Address loopback_any_port() { return *Address::parse("127.0.0.1:1"); }

// Nodes listen on 127.0.0.1 with a port the kernel picks; timers are shortened so that tests
// run in seconds.
inline NodeConfig fast_config(const std::string& name) {
  NodeConfig c;
  c.listen = loopback_any_port();
  c.listen.port = 0;
  c.name = name;
  c.options.shuffle_period = milliseconds(500);
  c.options.keepalive_interval = milliseconds(100);
  c.options.keepalive_timeout = milliseconds(1500);  // generous: sanitizer builds on a busy machine are slow
  c.options.neighbor_timeout = milliseconds(1000);
  c.options.reject_backoff = milliseconds(500);
  c.options.join_retry_min = milliseconds(100);
  c.options.join_retry_max = milliseconds(1000);
  c.connect_timeout = milliseconds(1500);
  c.handshake_timeout = milliseconds(1500);
  // ctest runs the real-socket node tests once per transport (tests/CMakeLists.txt); by default
  // the node's own choice (io_uring where it works, else epoll).
  if (const char* forced = std::getenv("HYPAR_TEST_TRANSPORT"); forced && std::string(forced) == "epoll") {
    c.make_transport = [](const asio::any_io_executor& ex) { return transport::make_tcp_transport(ex); };
  } else if (forced && std::string(forced) == "uring") {
    test::require_uring();  // a SKIP (exit 77) where io_uring is unavailable, not a failure
    c.make_transport = [](const asio::any_io_executor& ex) { return transport::make_uring_transport(ex); };
  }
  return c;
}

// Runs the io_context until `done()` holds or `timeout` passes; returns done().
inline bool run_until(asio::io_context& io, const std::function<bool()>& done, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_for(milliseconds(5));
  }
  return true;
}

// Collects every event of a node in the background.
struct EventLog {
  std::vector<Event> events;
  template <class T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const auto& e : events) {
      if (auto* x = std::get_if<T>(&e)) out.push_back(*x);
    }
    return out;
  }
};

inline void collect_events(asio::io_context& io, Node& node, std::shared_ptr<EventLog> log) {
  asio::co_spawn(
      io,
      [&node, log]() -> asio::awaitable<void> {
        while (auto event = co_await node.next_event()) log->events.push_back(std::move(*event));
      },
      [](std::exception_ptr) {});  // ends when the node stops
}

// Joins `node` through `contacts` in the background; `outcome` is set when join() returns.
// (Contacts travel in a vector: GCC 12 cannot copy an Address, which holds an array, into a
// coroutine frame, neither as a by-value parameter nor as a temporary living across co_await.)
inline asio::awaitable<void> join_into(Node& node, std::vector<Address> contacts, std::optional<bool>* outcome) {
  const bool ok = co_await node.join(std::move(contacts));
  if (outcome) *outcome = ok;
}

inline bool has_peer(const Node& node, const Address& peer) {
  for (const auto& p : node.peers()) {
    if (p.address == peer) return true;
  }
  return false;
}

// GET `path` from an HTTP endpoint on loopback (e.g. Node::metrics_address()), driving `io` (the
// node's own context) meanwhile; the whole response, or "" if none came within 5 s.
inline std::string http_get(asio::io_context& io, const Address& endpoint, const std::string& path) {
  std::string response;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::ip::tcp::socket s(io);
        co_await s.async_connect({asio::ip::make_address("127.0.0.1"), endpoint.port}, asio::use_awaitable);
        const std::string request = "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
        co_await asio::async_write(s, asio::buffer(request), asio::use_awaitable);
        co_await asio::async_read(s, asio::dynamic_buffer(response), asio::experimental::as_tuple(asio::use_awaitable));
      },
      [&](std::exception_ptr) { done = true; });
  if (!run_until(io, [&] { return done; }, seconds(5))) return {};
  return response;
}

}  // namespace hypar::testing
