// SPDX-License-Identifier: Apache-2.0
// The io_uring transport on loopback: connect/accept, echo, large transfers, a shared buffer ring
// with a per-connection cap, end of stream, errors, cancellation, close with operations in flight,
// and the choice between uring and epoll. Every test runs its io_context for a bounded time.
// When io_uring cannot be set up here, each test is a ctest SKIP (tests/skip.hpp: exit 77).
#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <span>
#include <vector>

#include "hypar/runtime/timer.hpp"
#include "hypar/transport/connection.hpp"
#include "hypar/transport/frame.hpp"
#include "hypar/transport/uring.hpp"
#include "connection_helpers.hpp"
#include "skip.hpp"

namespace {

using namespace asio::experimental::awaitable_operators;
using hypar::Address;
using hypar::milliseconds;
using hypar::seconds;
using hypar::test::pattern;
using hypar::test::read_exactly;
using hypar::test::run;
using hypar::transport::Connection;
using hypar::transport::Listener;
using hypar::transport::Transport;

const Address kLoopback = Address::v4(127, 0, 0, 1, 0);

struct Pair {
  std::unique_ptr<Connection> client;
  std::unique_ptr<Connection> server;
};

asio::awaitable<Pair> connect_pair(Transport& transport, Listener& listener) {
  const Address target = listener.local_address();
  auto [client, server] = co_await (transport.connect(target) && listener.accept());
  co_return Pair{std::move(client), std::move(server)};
}

}  // namespace

TEST_CASE("uring: connect and accept on loopback", "[uring]") {
  hypar::test::require_uring();
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_uring_transport(io.get_executor());
    CHECK(std::string(transport->name()) == "uring");
    auto listener = transport->listen(kLoopback);
    CHECK(listener->local_address().port != 0);
    auto [client, server] = co_await connect_pair(*transport, *listener);
    CHECK(client->remote() == listener->local_address().to_string());
    CHECK(server->remote().rfind("127.0.0.1:", 0) == 0);
    const std::vector<std::uint8_t> hello{1, 2, 3};
    co_await client->write_all(hello);
    const auto got = co_await read_exactly(*server, 3);  // (no co_await inside CHECK: GCC 12)
    CHECK(got == hello);
  });
}

TEST_CASE("uring: many frames echoed both ways", "[uring]") {
  hypar::test::require_uring();
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_uring_transport(io.get_executor());
    auto listener = transport->listen(kLoopback);
    // References, not a structured binding: the lambdas below capture them (clang 14 cannot).
    Pair pair = co_await connect_pair(*transport, *listener);
    auto& client = pair.client;
    auto& server = pair.server;
    constexpr int kFrames = 20000;

    // The server echoes whatever arrives until end of stream.
    auto echo = [&]() -> asio::awaitable<void> {
      std::vector<std::uint8_t> buffer(16 * 1024);
      for (;;) {
        const std::size_t n = co_await server->read_some(buffer);
        if (n == 0) break;
        co_await server->write_all(std::span(buffer.data(), n));
      }
      server->shutdown_send();
    };
    // The client sends frames of varied sizes in batches of many frames per write...
    auto send = [&]() -> asio::awaitable<void> {
      std::vector<std::uint8_t> batch;
      for (int i = 0; i < kFrames;) {
        batch.clear();
        for (int j = 0; j < 100 && i < kFrames; ++j, ++i) {
          hypar::transport::append_frame(batch, pattern(1 + static_cast<std::size_t>(i % 300), static_cast<std::uint32_t>(i)));
        }
        co_await client->write_all(batch);
      }
      client->shutdown_send();
    };
    // ...and parses the echo in place, frame by frame.
    auto receive = [&]() -> asio::awaitable<int> {
      hypar::transport::FrameDecoder decoder;
      int frames = 0;
      for (;;) {
        while (auto frame = decoder.next()) {
          const auto expected = pattern(1 + static_cast<std::size_t>(frames % 300), static_cast<std::uint32_t>(frames));
          REQUIRE(std::equal(frame->begin(), frame->end(), expected.begin(), expected.end()));
          ++frames;
        }
        REQUIRE_FALSE(decoder.failed());
        const auto bytes = co_await client->read_view();
        if (bytes.empty()) break;
        decoder.feed(bytes);
      }
      co_return frames;
    };
    const int frames = co_await (echo() && (send() && receive()));
    CHECK(frames == kFrames);
  });
}

TEST_CASE("uring: multi-MiB transfers arrive intact", "[uring]") {
  hypar::test::require_uring();
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_uring_transport(io.get_executor());
    auto listener = transport->listen(kLoopback);
    auto [client, server] = co_await connect_pair(*transport, *listener);
    const auto up = pattern(12u << 20, 1);
    const auto down = pattern(9u << 20, 2);
    auto [got_up, got_down] = co_await ((client->write_all(up) && read_exactly(*server, up.size())) &&
                                        (server->write_all(down) && read_exactly(*client, down.size(), true)));
    CHECK(got_up == up);
    CHECK(got_down == down);
  });
}

TEST_CASE("uring: 64 connections share the buffer ring - a peer nobody reads is held to its cap", "[uring]") {
  hypar::test::require_uring();
  run([](asio::io_context& io) -> asio::awaitable<void> {
    hypar::transport::UringOptions options;
    options.buffer_size = 4096;
    options.buffer_count = 64;  // fewer buffers than connections
    options.per_connection_buffers = 4;
    auto transport = hypar::transport::make_uring_transport(io.get_executor(), options);
    auto listener = transport->listen(kLoopback);
    std::vector<Pair> pairs;
    for (int i = 0; i < 64; ++i) pairs.push_back(co_await connect_pair(*transport, *listener));

    // Connection 0 floods; its server side is not read until the others are done. The flood goes
    // out in chunks so that the others can wait for it to pass its share of the ring.
    const auto flood = pattern(16u << 20, 99);
    constexpr std::size_t kChunk = 16 * 1024;
    std::size_t flooded = 0;
    auto flooder = [&]() -> asio::awaitable<void> {
      for (std::size_t at = 0; at < flood.size(); at += kChunk) {
        co_await pairs[0].client->write_all(std::span(flood).subspan(at, std::min(kChunk, flood.size() - at)));
        flooded = at + kChunk;
      }
    };
    auto others = [&]() -> asio::awaitable<void> {
      // Four times its share (4 buffers of 4 KiB) written on loopback: the share is full. (The
      // socket buffers hold more than that, so the flood never blocks before.)
      while (flooded < 4 * options.per_connection_buffers * options.buffer_size) co_await hypar::sleep_for(milliseconds(1));
      for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 1; i < pairs.size(); ++i) {
          co_await pairs[i].client->write_all(pattern(10000, static_cast<std::uint32_t>(i * 10 + round)));
        }
        for (std::size_t i = 1; i < pairs.size(); ++i) {
          auto got = co_await hypar::with_timeout(read_exactly(*pairs[i].server, 10000), seconds(5));
          REQUIRE(got.has_value());  // starved by the flood otherwise
          REQUIRE(*got == pattern(10000, static_cast<std::uint32_t>(i * 10 + round)));
        }
      }
      auto got = co_await read_exactly(*pairs[0].server, flood.size());
      REQUIRE(got == flood);
    };
    co_await (flooder() && others());
  });
}

TEST_CASE("uring: the peer's close reads as end of stream after its data", "[uring]") {
  hypar::test::require_uring();
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_uring_transport(io.get_executor());
    auto listener = transport->listen(kLoopback);
    auto [client, server] = co_await connect_pair(*transport, *listener);
    const auto data = pattern(100000, 5);
    co_await client->write_all(data);
    client->shutdown_send();
    const auto got = co_await read_exactly(*server, data.size());
    CHECK(got == data);
    std::vector<std::uint8_t> buffer(100);
    const std::size_t end1 = co_await server->read_some(buffer);
    const std::size_t end2 = co_await server->read_some(buffer);  // and stays at end of stream
    const auto end3 = co_await server->read_view();
    CHECK(end1 == 0);
    CHECK(end2 == 0);
    CHECK(end3.empty());
    // The other direction still works after a half close.
    co_await server->write_all(data);
    const auto back = co_await read_exactly(*client, data.size());
    CHECK(back == data);
    server->close();
    const std::size_t end4 = co_await client->read_some(buffer);
    CHECK(end4 == 0);
  });
}

TEST_CASE("uring: a reset connection and a refused connect throw", "[uring]") {
  hypar::test::require_uring();
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_uring_transport(io.get_executor());
    auto listener = transport->listen(kLoopback);
    const Address target = listener->local_address();
    // The peer is a plain Asio socket closed with SO_LINGER 0: an RST.
    asio::ip::tcp::socket peer(io);
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), target.port);
    auto server = co_await (peer.async_connect(endpoint, asio::use_awaitable) && listener->accept());
    peer.set_option(asio::socket_base::linger(true, 0));
    peer.close();
    std::vector<std::uint8_t> buffer(100);
    bool threw = false;
    try {
      for (int i = 0; i < 10; ++i) (void)co_await server->read_some(buffer);
    } catch (const std::system_error& e) {
      threw = true;
      CHECK(e.code() == asio::error::connection_reset);
    }
    CHECK(threw);
    // Writing to it fails too (EPIPE or ECONNRESET), as an exception rather than a signal.
    bool write_threw = false;
    try {
      const auto big = pattern(1u << 20, 3);
      co_await server->write_all(big);
      co_await server->write_all(big);
    } catch (const std::system_error&) {
      write_threw = true;
    }
    CHECK(write_threw);

    listener->close();
    bool refused = false;
    try {
      (void)co_await transport->connect(target);
    } catch (const std::system_error& e) {
      refused = true;
      CHECK(e.code() == asio::error::connection_refused);
    }
    CHECK(refused);
  });
}

TEST_CASE("uring: a pending read is cancelled by with_timeout and by ||", "[uring]") {
  hypar::test::require_uring();
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_uring_transport(io.get_executor());
    auto listener = transport->listen(kLoopback);
    auto [client, server] = co_await connect_pair(*transport, *listener);
    std::vector<std::uint8_t> buffer(100);

    auto timed_out = co_await hypar::with_timeout(server->read_some(buffer), milliseconds(50));
    CHECK_FALSE(timed_out.has_value());
    auto raced = co_await (server->read_view() || hypar::sleep_for(milliseconds(50)));
    CHECK(raced.index() == 1);
    auto accept_raced = co_await (listener->accept() || hypar::sleep_for(milliseconds(50)));
    CHECK(accept_raced.index() == 1);

    // The connection still works afterwards, and no byte went to the cancelled readers.
    const std::vector<std::uint8_t> data{7, 8, 9};
    co_await client->write_all(data);
    const auto got = co_await read_exactly(*server, 3);
    CHECK(got == data);
    // And a read that data completes wins the race.
    co_await client->write_all(data);
    auto won = co_await hypar::with_timeout(server->read_some(buffer), seconds(5));
    REQUIRE(won.has_value());
    CHECK(*won == 3);
  });
}

TEST_CASE("uring: close() with a read and a blocked write in flight", "[uring]") {
  hypar::test::require_uring();
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_uring_transport(io.get_executor());
    auto listener = transport->listen(kLoopback);
    // References, not a structured binding: the lambdas below capture them (clang 14 cannot).
    Pair pair = co_await connect_pair(*transport, *listener);
    auto& client = pair.client;
    auto& server = pair.server;
    // Nobody reads the server side: a 64 MiB write blocks once the socket buffers are full.
    auto big = std::make_shared<std::vector<std::uint8_t>>(pattern(64u << 20, 4));
    int ended = 0;
    auto reader = [&]() -> asio::awaitable<void> {
      std::vector<std::uint8_t> buffer(100);
      try {
        (void)co_await client->read_some(buffer);
      } catch (const std::system_error& e) {
        CHECK(e.code() == asio::error::operation_aborted);
      }
      ++ended;
    };
    auto writer = [&]() -> asio::awaitable<void> {
      try {
        co_await client->write_all(*big);
      } catch (const std::system_error& e) {
        CHECK(e.code() == asio::error::operation_aborted);
      }
      ++ended;
    };
    auto closer = [&]() -> asio::awaitable<void> {
      co_await hypar::sleep_for(milliseconds(100));
      client->close();
      client->close();  // idempotent
    };
    co_await (reader() && writer() && closer());
    CHECK(ended == 2);
    // Operations on a closed connection fail at once.
    std::vector<std::uint8_t> buffer(100);
    int failures = 0;
    try {
      (void)co_await client->read_some(buffer);
    } catch (const std::system_error&) {
      ++failures;
    }
    try {
      co_await client->write_all(buffer);
    } catch (const std::system_error&) {
      ++failures;
    }
    CHECK(failures == 2);
    client.reset();
    // The server sees the connection end.
    bool ended_or_reset = false;
    buffer.resize(1 << 20);
    try {
      for (int i = 0; i < 100000 && !ended_or_reset; ++i) {
        const std::size_t n = co_await server->read_some(buffer);
        ended_or_reset = n == 0;
      }
    } catch (const std::system_error&) {
      ended_or_reset = true;
    }
    CHECK(ended_or_reset);
  });
}

TEST_CASE("uring: destroying the io_context with operations in flight", "[uring]") {
  hypar::test::require_uring();
  auto io = std::make_unique<asio::io_context>();
  auto transport = hypar::transport::make_uring_transport(io->get_executor());
  auto listener = transport->listen(kLoopback);
  std::unique_ptr<Connection> client, server;
  bool connected = false;
  asio::co_spawn(*io, [&]() -> asio::awaitable<void> {
    auto pair = co_await connect_pair(*transport, *listener);
    client = std::move(pair.client);
    server = std::move(pair.server);
    connected = true;
    std::vector<std::uint8_t> buffer(100);
    (void)co_await client->read_some(buffer);  // never completes: abandoned at shutdown
  }, [](std::exception_ptr) {});
  asio::co_spawn(*io, [&]() -> asio::awaitable<void> {
    (void)co_await listener->accept();  // never completes either
  }, [](std::exception_ptr) {});
  // Until both coroutines wait in the kernel: connected (the read is submitted in the same run).
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!connected && std::chrono::steady_clock::now() < deadline) io->run_one_for(std::chrono::milliseconds(10));
  REQUIRE(connected);
  io->poll();
  io.reset();  // the ring shuts down: handlers destroyed, the kernel's operations cancelled
  // Objects that outlived their io_context are inert.
  server->close();
  client.reset();
  server.reset();
  listener.reset();
  transport.reset();
}

TEST_CASE("uring: make_default_transport falls back to epoll when io_uring is unavailable", "[uring]") {
  asio::io_context io;
  ::setenv("HYPAR_URING_DISABLE", "1", 1);
  CHECK_THROWS_WITH(hypar::transport::make_uring_transport(io.get_executor()),
                    Catch::Contains("HYPAR_URING_DISABLE"));
  auto fallback = hypar::transport::make_default_transport(io.get_executor());
  CHECK(std::string(fallback->name()) == "epoll");
  ::unsetenv("HYPAR_URING_DISABLE");
  if (!hypar::test::uring_unavailable_reason().empty()) return;  // the fallback part above ran
  auto chosen = hypar::transport::make_default_transport(io.get_executor());
  CHECK(std::string(chosen->name()) == "uring");
}

TEST_CASE("uring: write_now writes what the socket takes without waiting, in order after write_all, 0 once full or closed",
          "[uring]") {
  hypar::test::require_uring();
  run([](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = hypar::transport::make_uring_transport(io.get_executor());
    auto listener = transport->listen(kLoopback);
    Pair pair = co_await connect_pair(*transport, *listener);
    const auto stream = pattern(32 * 1024 * 1024, 5);
    co_await pair.client->write_all(std::span(stream).first(1000));
    std::size_t written = 1000;
    for (;;) {  // nobody reads: the socket buffers fill up and write_now says so
      const std::size_t n = pair.client->write_now(std::span(stream).subspan(written));
      if (n == 0) break;
      written += n;
    }
    CHECK(written > 1000);
    CHECK(written < stream.size());
    const auto received = co_await read_exactly(*pair.server, written);
    CHECK(std::equal(received.begin(), received.end(), stream.begin()));
    CHECK(pair.client->write_now(std::span(stream).first(10)) == 10);
    pair.client->close();
    CHECK(pair.client->write_now(std::span(stream).first(10)) == 0);
  });
}
