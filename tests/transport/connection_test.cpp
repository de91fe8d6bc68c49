// SPDX-License-Identifier: Apache-2.0
// The default read_view() buffer of a plain TCP connection (the epoll transport's): small while a
// connection is idle (memory per node: docs/benchmarks.md, "Memory per node"), doubled after each
// read that fills it, halved after a run of small reads. The bytes are all in the receiver's socket
// buffer before each read, so every view is as long as the buffer allows. An idle connection waits
// for its next bytes without a buffer; write_now() writes without waiting.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hypar/runtime/timer.hpp"
#include "hypar/transport/connection.hpp"
#include "connection_helpers.hpp"

namespace {

using namespace asio::experimental::awaitable_operators;
using hypar::Address;
using hypar::milliseconds;
using hypar::sleep_for;
using hypar::test::pattern;
using hypar::transport::Connection;

// Sends `bytes`, waits until loopback has delivered them, and returns the lengths of the views
// that read them back.
asio::awaitable<std::vector<std::size_t>> view_lengths(Connection& from, Connection& to,
                                                       const std::vector<std::uint8_t>& bytes) {
  co_await from.write_all(bytes);
  co_await sleep_for(milliseconds(200));
  std::vector<std::size_t> lengths;
  std::size_t received = 0;
  while (received < bytes.size()) {
    const auto view = co_await to.read_view();
    REQUIRE_FALSE(view.empty());
    lengths.push_back(view.size());
    received += view.size();
  }
  co_return lengths;
}

asio::awaitable<void> read_one_view(Connection& from, std::vector<std::uint8_t>& got, bool& done) {
  const auto view = co_await from.read_view();
  got.assign(view.begin(), view.end());
  done = true;
}

TEST_CASE("tcp read_view: the buffer starts at 1 KiB, doubles when filled, halves after small reads",
          "[connection]") {
  hypar::test::run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_tcp_transport(io.get_executor());
    auto listener = transport->listen(Address::v4(127, 0, 0, 1, 0));
    auto [client, server] = co_await (transport->connect(listener->local_address()) && listener->accept());

    // 16 KiB at once: 1 + 2 + 4 + 8 KiB fill their buffers, the last 1 KiB goes into a 16 KiB one.
    const auto growing = co_await view_lengths(*client, *server, pattern(16 * 1024, 1));
    CHECK(growing == std::vector<std::size_t>{1024, 2048, 4096, 8192, 1024});
    // Fifteen more reads of one byte make sixteen under a quarter of the 16 KiB buffer: halved.
    for (int i = 0; i < 15; ++i) {
      const auto one_byte = co_await view_lengths(*client, *server, pattern(1, 2));
      CHECK(one_byte == std::vector<std::size_t>{1});
    }
    const auto halved = co_await view_lengths(*client, *server, pattern(9 * 1024, 3));
    CHECK(halved == std::vector<std::size_t>{8192, 1024});
  });
}

TEST_CASE("tcp read_view: an idle connection waits without a buffer, reads a small frame inline, and the end",
          "[connection]") {
  hypar::test::run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_tcp_transport(io.get_executor());
    auto listener = transport->listen(Address::v4(127, 0, 0, 1, 0));
    auto [client, server] = co_await (transport->connect(listener->local_address()) && listener->accept());

    const auto first = co_await view_lengths(*client, *server, pattern(100, 1));
    CHECK(first == std::vector<std::size_t>{100});
    CHECK(server->view_buffer_bytes() == 1024);  // the view just read lives in it
    // The socket is drained: the next read waits holding no buffer.
    std::vector<std::uint8_t> got;
    bool done = false;
    asio::co_spawn(io, read_one_view(*server, got, done), asio::detached);
    co_await sleep_for(milliseconds(50));
    CHECK_FALSE(done);
    CHECK(server->view_buffer_bytes() == 0);
    // A keepalive-sized frame is read without allocating one.
    const auto small = pattern(5, 2);
    co_await client->write_all(small);
    while (!done) co_await sleep_for(milliseconds(5));
    CHECK(got == small);
    CHECK(server->view_buffer_bytes() == 0);
    // More than fits inline: the first view is a prefix, the rest comes through the buffer.
    const auto later = pattern(300, 3);
    co_await client->write_all(later);
    co_await sleep_for(milliseconds(50));
    const auto head = co_await server->read_view();
    REQUIRE_FALSE(head.empty());
    CHECK(head.size() < later.size());
    std::vector<std::uint8_t> all(head.begin(), head.end());
    CHECK(server->view_buffer_bytes() == 0);
    while (all.size() < later.size()) {
      const auto view = co_await server->read_view();
      REQUIRE_FALSE(view.empty());
      all.insert(all.end(), view.begin(), view.end());
    }
    CHECK(all == later);
    CHECK(server->view_buffer_bytes() == 1024);
    // The end of the stream, while idle, is an empty view.
    client->shutdown_send();
    const auto end = co_await server->read_view();
    CHECK(end.empty());
  });
}

TEST_CASE("tcp write_now: writes what the socket takes without waiting, 0 once it is full or closed",
          "[connection]") {
  hypar::test::run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_tcp_transport(io.get_executor());
    auto listener = transport->listen(Address::v4(127, 0, 0, 1, 0));
    auto [client, server] = co_await (transport->connect(listener->local_address()) && listener->accept());

    // Nobody reads: the socket buffers (a few MiB on loopback) fill up and write_now says so.
    const auto stream = pattern(32 * 1024 * 1024, 4);
    std::size_t written = 0;
    for (;;) {
      const std::size_t n = client->write_now(std::span(stream).subspan(written));
      if (n == 0) break;
      written += n;
    }
    REQUIRE(written > 0);
    CHECK(written < stream.size());
    // Every byte arrives, in order.
    std::vector<std::uint8_t> received;
    while (received.size() < written) {
      const auto view = co_await server->read_view();
      REQUIRE_FALSE(view.empty());
      received.insert(received.end(), view.begin(), view.end());
    }
    CHECK(received.size() == written);
    CHECK(std::equal(received.begin(), received.end(), stream.begin()));
    // Once the socket has room again it takes more; a closed connection takes nothing.
    CHECK(client->write_now(std::span(stream).first(10)) == 10);
    client->close();
    CHECK(client->write_now(std::span(stream).first(10)) == 0);
  });
}

}  // namespace
