// SPDX-License-Identifier: Apache-2.0
// The node's counters (Node::metrics, Node::links) and its HTTP endpoint (NodeConfig::metrics_listen)
// over loopback: counters follow what happened, /metrics, /status and / answer, and hostile HTTP
// clients do not disturb the node's peering.
#include <catch2/catch.hpp>

#include "node_test_support.hpp"

using namespace hypar;
using namespace hypar::testing;

namespace {

std::uint64_t down(const NodeMetrics& m, DownReason reason) {
  return m.counters.membership.link_down[static_cast<std::size_t>(reason)];
}

}  // namespace

TEST_CASE("metrics: counters follow links, messages and a graceful leave") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  auto b = std::make_unique<Node>(io, fast_config("b"));
  auto b_log = std::make_shared<EventLog>();
  collect_events(io, *b, b_log);
  asio::co_spawn(io, join_into(*b, {a.id().address}, nullptr), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b->id().address) && has_peer(*b, a.id().address); }, seconds(5)));

  const std::vector<std::uint8_t> bytes(100, 7);
  for (int i = 0; i < 10; ++i) REQUIRE(a.try_send(b->id().address, bytes) == SendResult::ok);
  REQUIRE(run_until(io, [&] { return b_log->all<Received>().size() == 10; }, seconds(5)));

  const NodeMetrics ma = a.metrics(), mb = b->metrics();
  REQUIRE(ma.active_peers == 1);
  REQUIRE(ma.counters.membership.link_up == 1);
  REQUIRE(mb.counters.membership.join_attempts == 1);
  REQUIRE(mb.counters.membership.sent[0] == 1);  // JOIN
  REQUIRE(ma.counters.membership.received[0] == 1);
  REQUIRE(ma.counters.data_sent == 10);
  REQUIRE(mb.counters.data_received == 10);
  REQUIRE(ma.counters.bytes_sent >= 10 * (100 + 5));
  REQUIRE(mb.counters.bytes_received >= 10 * (100 + 5));
  REQUIRE(ma.counters.connections_accepted == 1);
  REQUIRE(mb.counters.connections_dialled == 1);
  const auto links = a.links();
  REQUIRE(links.size() == 1);
  REQUIRE(links[0].peer == b->id());
  REQUIRE(links[0].bytes_sent >= 10 * 105);
  REQUIRE_FALSE(links[0].dialled_by_us);

  asio::co_spawn(io, b->leave(), asio::detached);
  REQUIRE(run_until(io, [&] { return a.peers().empty(); }, seconds(5)));
  const NodeMetrics after = a.metrics();
  REQUIRE(down(after, DownReason::graceful) == 1);
  REQUIRE(down(after, DownReason::failed) == 0);
  REQUIRE(after.active_peers == 0);
}

TEST_CASE("metrics: a killed neighbour shows up as link_down{reason=failed}") {
  asio::io_context io;
  Node a(io, fast_config("a"));
  auto b = std::make_unique<Node>(io, fast_config("b"));
  asio::co_spawn(io, join_into(*b, {a.id().address}, nullptr), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b->id().address); }, seconds(5)));
  b.reset();  // no goodbye: its sockets close
  REQUIRE(run_until(io, [&] { return a.peers().empty(); }, seconds(5)));
  REQUIRE(down(a.metrics(), DownReason::failed) == 1);
  REQUIRE(down(a.metrics(), DownReason::graceful) == 0);
}

TEST_CASE("metrics: the HTTP endpoint serves /metrics, /status and the page") {
  asio::io_context io;
  NodeConfig ca = fast_config("a");
  ca.metrics_listen = Address::v4(127, 0, 0, 1, 0);
  Node a(io, ca);
  Node b(io, fast_config("b"));
  asio::co_spawn(io, join_into(b, {a.id().address}, nullptr), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b.id().address); }, seconds(5)));
  REQUIRE(a.metrics_address().has_value());
  REQUIRE_FALSE(b.metrics_address().has_value());
  const Address endpoint = *a.metrics_address();

  const std::string metrics = http_get(io, endpoint, "/metrics");
  REQUIRE(metrics.starts_with("HTTP/1.1 200 OK\r\n"));
  REQUIRE(metrics.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  REQUIRE(metrics.find("\n# TYPE hypar_active_peers gauge\nhypar_active_peers 1\n") != std::string::npos);
  REQUIRE(metrics.find("\nhypar_link_up_total 1\n") != std::string::npos);
  REQUIRE(metrics.find("\nhypar_link_down_total{reason=\"failed\"} 0\n") != std::string::npos);
  REQUIRE(metrics.find("\nhypar_handshake_refusals_total{reason=\"bad_version\"} 0\n") != std::string::npos);

  const std::string status = http_get(io, endpoint, "/status");
  REQUIRE(status.find("Content-Type: application/json") != std::string::npos);
  const std::string a_id = a.id().address.to_string(), b_id = b.id().address.to_string();
  REQUIRE(status.find("{\"id\":\"" + a_id + "\",\"name\":\"a\"") != std::string::npos);
  REQUIRE(status.find("\"active\":[{\"id\":\"" + b_id + "\",\"name\":\"b\"") != std::string::npos);
  REQUIRE(status.find("\"counters\":{\"active_peers\":1,") != std::string::npos);

  const std::string page = http_get(io, endpoint, "/");
  REQUIRE(page.find("Content-Type: text/html") != std::string::npos);
  REQUIRE(page.find("<!doctype html>") != std::string::npos);
  REQUIRE(page.find("fetch(\"status\"") != std::string::npos);
  REQUIRE(http_get(io, endpoint, "/nope").starts_with("HTTP/1.1 404 "));
}

TEST_CASE("metrics: hostile HTTP clients do not disturb the node") {
  asio::io_context io;
  NodeConfig ca = fast_config("a");
  ca.metrics_listen = Address::v4(127, 0, 0, 1, 0);
  Node a(io, ca);
  Node b(io, fast_config("b"));
  auto b_log = std::make_shared<EventLog>();
  collect_events(io, b, b_log);
  asio::co_spawn(io, join_into(b, {a.id().address}, nullptr), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b.id().address); }, seconds(5)));
  const Address endpoint = *a.metrics_address();
  const asio::ip::tcp::endpoint to{asio::ip::make_address("127.0.0.1"), endpoint.port};

  // 100 slowloris clients, each sending part of a request line and then nothing; garbage; an
  // oversized header.
  std::vector<std::unique_ptr<asio::ip::tcp::socket>> clients;
  for (int i = 0; i < 100; ++i) {
    auto s = std::make_unique<asio::ip::tcp::socket>(io);
    s->connect(to);
    asio::write(*s, asio::buffer(std::string("GET /metr")));
    clients.push_back(std::move(s));
  }
  REQUIRE(http_get(io, endpoint, "\x01\x02 garbage").starts_with("HTTP/1.1 400 "));
  REQUIRE(http_get(io, endpoint, "/metrics\r\nX: " + std::string(20000, 'x')).starts_with("HTTP/1.1 431 "));

  // The node keeps exchanging messages and answering scrapes.
  const std::vector<std::uint8_t> bytes{1, 2, 3};
  for (int i = 0; i < 100; ++i) REQUIRE(a.try_send(b.id().address, bytes) == SendResult::ok);
  REQUIRE(run_until(io, [&] { return b_log->all<Received>().size() == 100; }, seconds(5)));
  REQUIRE(http_get(io, endpoint, "/metrics").starts_with("HTTP/1.1 200 OK\r\n"));
  REQUIRE(has_peer(a, b.id().address));
}
