// SPDX-License-Identifier: Apache-2.0
// TLS over both transports on loopback, with a throwaway PKI made at test time by
// make_tls_certs.sh (a ctest SKIP without the openssl command): a link carries small and large
// writes both ways; an unknown CA, an expired certificate, a name mismatch, a plaintext peer (both
// ways), garbage and a truncated record are refused with a clear reason; a reload admits a
// certificate from a new CA while the connection made before it keeps working.
#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <stdlib.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "hypar/runtime/timer.hpp"
#include "hypar/transport/connection.hpp"
#include "hypar/transport/frame.hpp"
#include "hypar/transport/tls.hpp"
#include "hypar/transport/uring.hpp"
#include "connection_helpers.hpp"
#include "test_pki.hpp"
#include "skip.hpp"

namespace {

using namespace asio::experimental::awaitable_operators;
using hypar::Address;
using hypar::seconds;
using hypar::test::pattern;
using hypar::test::pki;
using hypar::test::read_exactly;
using hypar::test::run;
using hypar::transport::Connection;
using hypar::transport::TlsContext;
using hypar::transport::TlsOptions;
using hypar::transport::Transport;

const Address kLoopback = Address::v4(127, 0, 0, 1, 0);

TlsOptions options(const std::string& cert, const std::string& ca = "ca", bool verify_name = false) {
  return TlsOptions{pki() + "/" + cert + ".pem", pki() + "/" + cert + ".key", pki() + "/" + ca + ".pem", verify_name};
}

std::unique_ptr<Transport> inner(asio::io_context& io, const std::string& backend) {
  if (backend == "uring") {
    hypar::test::require_uring();
    return hypar::transport::make_uring_transport(io.get_executor());
  }
  return hypar::transport::make_tcp_transport(io.get_executor());
}

std::unique_ptr<Transport> tls(asio::io_context& io, const std::string& backend, TlsOptions o) {
  return hypar::transport::make_tls_transport(inner(io, backend), std::make_shared<TlsContext>(std::move(o)));
}

// What a side of an exchange saw: "" when it completed, else its error (the connection closed).
struct Outcome {
  std::string client;
  std::string server;
};

asio::awaitable<std::string> error_of(asio::awaitable<void> step, Connection& connection) {
  std::string error;
  try {
    co_await std::move(step);
  } catch (const std::exception& e) {
    error = e.what();
  }
  connection.close();
  co_return error;
}

// The node's pattern: each side writes a small frame, then reads the other's.
asio::awaitable<void> exchange(Connection& connection) {
  std::vector<std::uint8_t> out;
  hypar::transport::append_frame(out, pattern(40, 7));
  co_await connection.write_all(out);
  (void)co_await read_exactly(connection, out.size(), true);
}

asio::awaitable<Outcome> try_link(Transport& client_transport, Transport& server_transport) {
  auto listener = server_transport.listen(kLoopback);
  auto [client, server] = co_await (client_transport.connect(listener->local_address()) && listener->accept());
  auto [c, s] = co_await (error_of(exchange(*client), *client) && error_of(exchange(*server), *server));
  co_return Outcome{c, s};
}

Outcome link_outcome(const std::string& backend, TlsOptions client, TlsOptions server) {
  Outcome outcome;
  run([&](asio::io_context& io) -> asio::awaitable<void> {
    auto c = tls(io, backend, std::move(client));
    auto s = tls(io, backend, std::move(server));
    outcome = co_await try_link(*c, *s);
  });
  return outcome;
}

void link_carries_small_and_large_writes(const std::string& backend) {
  run([&](asio::io_context& io) -> asio::awaitable<void> {
    auto transport = tls(io, backend, options("node"));
    CHECK(std::string(transport->name()) == (backend == "uring" ? "uring+tls" : "epoll+tls"));
    auto listener = transport->listen(kLoopback);
    auto [client, server] = co_await (transport->connect(listener->local_address()) && listener->accept());
    for (const std::size_t size : {std::size_t{1}, std::size_t{64}, std::size_t{1024}, std::size_t{64 * 1024},
                                   std::size_t{3u << 20}}) {
      const auto up = pattern(size, 1);
      const auto down = pattern(size + 5, 2);
      auto [got_up, got_down] = co_await ((client->write_all(up) && read_exactly(*server, up.size(), true)) &&
                                          (server->write_all(down) && read_exactly(*client, down.size(), false)));
      CHECK(got_up == up);
      CHECK(got_down == down);
    }
    CHECK_FALSE(server->peer_address_problem(Address::v4(127, 0, 0, 1, 9)).has_value());  // no verify_name
    client->shutdown_send();
    const auto end = co_await server->read_view();
    CHECK(end.empty());
  });
}

void refusal(const std::string& backend, TlsOptions client, TlsOptions server, const std::string& client_says,
             const std::string& server_says) {
  const Outcome outcome = link_outcome(backend, std::move(client), std::move(server));
  INFO("client: " << outcome.client);
  INFO("server: " << outcome.server);
  CHECK(outcome.client.find(client_says) != std::string::npos);
  CHECK(outcome.server.find(server_says) != std::string::npos);
}

void plaintext_peers_are_named(const std::string& backend) {
  run([&](asio::io_context& io) -> asio::awaitable<void> {
    auto secure = tls(io, backend, options("node"));
    auto plain = inner(io, backend);
    const Outcome to_tls = co_await try_link(*plain, *secure);
    INFO("plain client -> TLS server: " << to_tls.server);
    CHECK(to_tls.server.find("plaintext peer") != std::string::npos);
    const Outcome to_plain = co_await try_link(*secure, *plain);
    INFO("TLS client -> plain server: " << to_plain.client);
    CHECK(to_plain.client.find("plaintext peer") != std::string::npos);
  });
}

// Raw bytes sent to a TLS server: it must fail with an error (never crash or wait forever).
std::string server_error_for(const std::string& backend, std::vector<std::uint8_t> bytes, bool close_after) {
  std::string error;
  run([&](asio::io_context& io) -> asio::awaitable<void> {
    auto secure = tls(io, backend, options("node"));
    auto plain = inner(io, backend);
    auto listener = secure->listen(kLoopback);
    auto [client, server] = co_await (plain->connect(listener->local_address()) && listener->accept());
    co_await client->write_all(bytes);
    if (close_after) client->shutdown_send();
    std::vector<std::uint8_t> buffer(1024);
    try {
      (void)co_await server->read_some(buffer);
      error = "no error";
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  return error;
}

void hostile_bytes_are_refused(const std::string& backend) {
  // A handshake record of garbage.
  auto garbage = pattern(3000, 5);
  garbage[0] = 0x16;
  garbage[1] = 0x03;
  garbage[2] = 0x01;
  garbage[3] = 0x0b;
  garbage[4] = 0xb0;
  const std::string bad = server_error_for(backend, garbage, false);
  INFO(bad);
  CHECK(bad.find("TLS error in the handshake") != std::string::npos);
  // A record header announcing more than ever arrives, then the end of the stream.
  const std::string truncated = server_error_for(backend, {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00}, true);
  INFO(truncated);
  CHECK(truncated.find("closed") != std::string::npos);
  // A record longer than TLS allows (a huge ClientHello).
  const std::string huge = server_error_for(backend, {0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00, 0xff, 0xfb}, false);
  INFO(huge);
  CHECK(huge.find("TLS error in the handshake") != std::string::npos);
  // Not TLS and not hypar.
  const std::string http = server_error_for(backend, {'G', 'E', 'T', ' ', '/'}, false);
  CHECK(http.find("not a TLS peer (first byte 0x47)") != std::string::npos);
}

void reload_admits_a_new_ca(const std::string& backend) {
  run([&](asio::io_context& io) -> asio::awaitable<void> {
    // The server's files are copies that the "operator" rewrites before the reload.
    const std::string dir = pki() + "/reload-" + backend;
    std::filesystem::create_directories(dir);
    const auto copy = [&](const std::string& from, const std::string& to) {
      std::filesystem::copy_file(pki() + "/" + from, dir + "/" + to, std::filesystem::copy_options::overwrite_existing);
    };
    copy("node.pem", "cert.pem");
    copy("node.key", "key.pem");
    copy("ca.pem", "ca.pem");
    auto server_context = std::make_shared<TlsContext>(TlsOptions{dir + "/cert.pem", dir + "/key.pem", dir + "/ca.pem"});
    auto server = hypar::transport::make_tls_transport(inner(io, backend), server_context);
    auto old_client = tls(io, backend, options("node"));
    auto new_client = tls(io, backend, options("new", "both-ca"));
    auto listener = server->listen(kLoopback);

    auto [kept_client, kept_server] = co_await (old_client->connect(listener->local_address()) && listener->accept());
    co_await (exchange(*kept_client) && exchange(*kept_server));
    const Outcome before = co_await try_link(*new_client, *server);
    CHECK(before.server.find("unknown CA") != std::string::npos);

    copy("both-ca.pem", "ca.pem");
    server_context->reload();
    CHECK(server_context->generation() == 2);
    const Outcome after = co_await try_link(*new_client, *server);
    CHECK(after.client.empty());
    CHECK(after.server.empty());
    co_await (exchange(*kept_client) && exchange(*kept_server));  // the link made before still works

    std::filesystem::remove(dir + "/key.pem");
    CHECK_THROWS_WITH(server_context->reload(), Catch::Contains("key.pem"));
    CHECK(server_context->generation() == 2);
  });
}

}  // namespace

TEST_CASE("tls: a bad configuration is one clear error", "[tls]") {
  CHECK_THROWS_WITH(TlsContext(TlsOptions{"/nonexistent.pem", pki() + "/node.key", pki() + "/ca.pem"}),
                    Catch::Contains("certificate file /nonexistent.pem"));
  CHECK_THROWS_WITH(TlsContext(TlsOptions{pki() + "/node.pem", pki() + "/foreign.key", pki() + "/ca.pem"}),
                    Catch::Contains("key file") && Catch::Contains("mismatch"));
  CHECK_THROWS_WITH(TlsContext(TlsOptions{pki() + "/node.pem", pki() + "/node.key", pki() + "/ca-db/index.txt"}),
                    Catch::Contains("CA file"));
  CHECK_THROWS_WITH(TlsContext(TlsOptions{pki() + "/node.key", pki() + "/node.key", pki() + "/ca.pem"}),
                    Catch::Contains("certificate file"));
}

#define HYPAR_TLS_TESTS(backend)                                                                           \
  TEST_CASE("tls " backend ": a link carries small and large writes both ways", "[tls]") {                 \
    link_carries_small_and_large_writes(backend);                                                          \
  }                                                                                                        \
  TEST_CASE("tls " backend ": a certificate from an unknown CA is refused", "[tls]") {                     \
    refusal(backend, options("foreign", "ca"), options("node"), "refused us", "unknown CA");               \
    refusal(backend, options("node"), options("foreign", "foreign-ca"), "unknown CA", "refused us");       \
  }                                                                                                        \
  TEST_CASE("tls " backend ": an expired certificate is refused", "[tls]") {                               \
    refusal(backend, options("expired"), options("node"), "refused us", "expired");                        \
  }                                                                                                        \
  TEST_CASE("tls " backend ": with verify_name the certificate must name the dialled address", "[tls]") { \
    refusal(backend, options("node", "ca", true), options("wrong-name"), "name mismatch", "refused us");   \
    const Outcome ok = link_outcome(backend, options("node", "ca", true), options("node", "ca", true));    \
    CHECK(ok.client.empty());                                                                              \
    CHECK(ok.server.empty());                                                                              \
  }                                                                                                        \
  TEST_CASE("tls " backend ": a plaintext peer is named as such, both ways", "[tls]") {                    \
    plaintext_peers_are_named(backend);                                                                    \
  }                                                                                                        \
  TEST_CASE("tls " backend ": garbage, truncated and oversized records are refused", "[tls]") {            \
    hostile_bytes_are_refused(backend);                                                                    \
  }                                                                                                        \
  TEST_CASE("tls " backend ": a reload admits a new CA and keeps the connections up", "[tls]") {           \
    reload_admits_a_new_ca(backend);                                                                       \
  }

HYPAR_TLS_TESTS("epoll")
HYPAR_TLS_TESTS("uring")
