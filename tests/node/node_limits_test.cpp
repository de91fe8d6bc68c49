// SPDX-License-Identifier: Apache-2.0
// The caps on inbound connections in handshake (NodeConfig::handshake_limits) against a flood of
// connections that send nothing or a HELLO cut short, from other loopback source addresses
// (127.0.0.2 and up): the caps hold (hypar_inbound_handshakes never above them), connections over
// a cap are closed at once and counted by reason, the others time out, a node's existing links are
// untouched, and a legitimate peer still gets in.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "hypar/transport/frame.hpp"
#include "hypar/transport/handshake.hpp"
#include "node_test_support.hpp"

using namespace hypar;
using namespace hypar::testing;

namespace {

std::uint64_t refusals(const Node& n, HandshakeRefusal reason) {
  return n.metrics().counters.handshake_refusals[static_cast<std::size_t>(reason)];
}

// Raw connections to a node from one loopback source address. Every other one sends half a HELLO
// (garbage that never completes), the rest nothing. `closed` counts those the node has closed
// (reading past the HELLO the node sends first).
struct Flood {
  struct Raw {
    explicit Raw(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    std::array<std::uint8_t, 256> sink{};
  };
  std::vector<std::unique_ptr<Raw>> raws;
  std::shared_ptr<std::size_t> closed = std::make_shared<std::size_t>(0);

  static void watch(Raw& raw, std::shared_ptr<std::size_t> closed) {
    raw.socket.async_read_some(asio::buffer(raw.sink), [&raw, closed](asio::error_code ec, std::size_t n) {
      if (ec || n == 0) {
        ++*closed;
        return;
      }
      watch(raw, closed);
    });
  }

  void open(asio::io_context& io, const Node& target, const std::string& source, std::size_t count) {
    std::vector<std::uint8_t> half_hello, payload;
    transport::encode_hello(transport::Hello{.sender = PeerId{*Address::parse("127.0.0.1:5599"), "x", 1}}, payload);
    transport::append_frame(half_hello, payload);
    half_hello.resize(half_hello.size() / 2);
    for (std::size_t i = 0; i < count; ++i) {
      auto raw = std::make_unique<Raw>(io);
      raw->socket.open(asio::ip::tcp::v4());
      raw->socket.bind({asio::ip::make_address(source), 0});
      raw->socket.connect({asio::ip::make_address("127.0.0.1"), target.id().address.port});
      if (i % 2 == 1) asio::write(raw->socket, asio::buffer(half_hello));
      watch(*raw, closed);
      raws.push_back(std::move(raw));
    }
  }
};

NodeConfig limited(const std::string& name, transport::HandshakeLimits limits, Duration handshake_timeout) {
  NodeConfig c = fast_config(name);
  c.handshake_limits = limits;
  c.handshake_timeout = handshake_timeout;
  return c;
}

}  // namespace

TEST_CASE("limits: a flood from one source hits its cap, links stay up and another peer joins") {
  asio::io_context io;
  // A long timeout keeps the flood's admitted connections in handshake for the whole check.
  Node a(io, limited("a", {.max_handshakes = 64, .max_handshakes_per_source = 8}, seconds(4)));
  Node b(io, fast_config("b"));
  auto a_log = std::make_shared<EventLog>();
  collect_events(io, a, a_log);
  asio::co_spawn(io, join_into(b, {a.id().address}, nullptr), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b.id().address) && has_peer(b, a.id().address); }, seconds(5)));

  Flood flood;
  flood.open(io, a, "127.0.0.2", 100);
  REQUIRE(run_until(io, [&] { return refusals(a, HandshakeRefusal::source_limit) == 92; }, seconds(5)));
  CHECK(a.metrics().inbound_handshakes == 8);  // the cap holds
  CHECK(a.metrics().counters.handshake_refusals[static_cast<std::size_t>(HandshakeRefusal::handshake_limit)] == 0);
  // The 92 over the cap were closed at once, without waiting for the handshake timeout.
  REQUIRE(run_until(io, [&] { return *flood.closed >= 92; }, seconds(2)));

  // A legitimate peer from another source joins while the flood holds its cap.
  Node c(io, fast_config("c"));
  std::optional<bool> c_joined;
  asio::co_spawn(io, join_into(c, {a.id().address}, &c_joined), asio::detached);
  REQUIRE(run_until(io, [&] { return c_joined.has_value(); }, seconds(3)));
  CHECK(*c_joined);
  CHECK(a.metrics().inbound_handshakes == 8);  // the flood's are still there, c's is done

  // The flood's admitted connections time out; the link a-b never went down.
  REQUIRE(run_until(io, [&] { return refusals(a, HandshakeRefusal::timeout) == 8; }, seconds(8)));
  CHECK(a.metrics().inbound_handshakes == 0);
  REQUIRE(run_until(io, [&] { return *flood.closed == 100; }, seconds(3)));
  CHECK(has_peer(a, b.id().address));
  CHECK(a_log->all<LinkDown>().empty());
  CHECK(refusals(a, HandshakeRefusal::source_limit) == 92);  // nothing else was refused at a cap
}

TEST_CASE("limits: the total cap holds across sources, a peer gets in once the flood times out") {
  asio::io_context io;
  Node a(io, limited("a", {.max_handshakes = 6, .max_handshakes_per_source = 6}, seconds(2)));
  Flood flood;
  for (const char* source : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) flood.open(io, a, source, 4);
  REQUIRE(run_until(io, [&] { return refusals(a, HandshakeRefusal::handshake_limit) == 6; }, seconds(5)));
  CHECK(a.metrics().inbound_handshakes == 6);
  CHECK(refusals(a, HandshakeRefusal::source_limit) == 0);

  // While the cap is full a new peer is refused at once; it retries and gets in after the
  // flood's handshakes time out.
  Node b(io, fast_config("b"));
  std::optional<bool> b_joined;
  asio::co_spawn(io, join_into(b, {a.id().address}, &b_joined), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b.id().address); }, seconds(10)));
  CHECK(refusals(a, HandshakeRefusal::timeout) == 6);
  CHECK(refusals(a, HandshakeRefusal::handshake_limit) >= 6);
  CHECK(a.metrics().inbound_handshakes == 0);
}

TEST_CASE("limits: a first frame longer than a handshake frame is refused as soon as its length arrives") {
  asio::io_context io;
  Node a(io, limited("a", {}, seconds(30)));  // a timeout that the test would notice
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), a.id().address.port});
  const std::vector<std::uint8_t> header{0, 0, 0x10, 0x01};  // 4097 bytes: within max_frame_size, not a HELLO
  asio::write(s, asio::buffer(header));
  // The refusal is counted first; the handshake's slot is given back as its coroutine unwinds.
  REQUIRE(run_until(io, [&] { return refusals(a, HandshakeRefusal::frame_too_large) == 1; }, seconds(5)));
  REQUIRE(run_until(io, [&] { return a.metrics().inbound_handshakes == 0; }, seconds(5)));
}

TEST_CASE("limits: invalid handshake limits are refused at construction") {
  asio::io_context io;
  CHECK_THROWS_AS(Node(io, limited("a", {.max_handshakes = 0, .max_handshakes_per_source = 0}, seconds(1))),
                  std::invalid_argument);
  CHECK_THROWS_AS(Node(io, limited("a", {.max_handshakes = 2, .max_handshakes_per_source = 3}, seconds(1))),
                  std::invalid_argument);
}

// The keyring (NodeConfig::accepted_secrets), in process: the process test of a whole roll is
// tests/transport/secret_roll_test.sh.
TEST_CASE("keyring: nodes one round apart link up, two rounds apart they are refused") {
  const std::string old_secret = "the old cluster secret", new_secret = "the new cluster secret";
  asio::io_context io;
  NodeConfig round1 = fast_config("round1"), round2 = fast_config("round2"), round0 = fast_config("round0");
  round0.secret = old_secret;
  round1.secret = old_secret;
  round1.accepted_secrets = {new_secret};
  round2.secret = new_secret;
  round2.accepted_secrets = {old_secret};
  Node a(io, round1), b(io, round2), c(io, round0);
  asio::co_spawn(io, join_into(b, {a.id().address}, nullptr), asio::detached);
  REQUIRE(run_until(io, [&] { return has_peer(a, b.id().address) && has_peer(b, a.id().address); }, seconds(5)));
  CHECK(refusals(a, HandshakeRefusal::wrong_secret) == 0);
  CHECK(refusals(b, HandshakeRefusal::wrong_secret) == 0);

  std::optional<bool> c_joined;
  asio::co_spawn(io, join_into(c, {b.id().address}, &c_joined), asio::detached);
  REQUIRE(run_until(io, [&] { return c_joined.has_value(); }, seconds(5)));
  CHECK_FALSE(*c_joined);
  CHECK(refusals(c, HandshakeRefusal::wrong_secret) >= 1);  // c cannot check b's proof (new)
  CHECK_FALSE(has_peer(b, c.id().address));
}

TEST_CASE("keyring: accepted secrets need a secret to prove with") {
  asio::io_context io;
  NodeConfig c = fast_config("a");
  c.accepted_secrets = {"an accepted secret only"};
  CHECK_THROWS_AS(Node(io, c), std::invalid_argument);
  c.secret = "the proving secret";
  c.accepted_secrets = {""};
  CHECK_THROWS_AS(Node(io, c), std::invalid_argument);
}
