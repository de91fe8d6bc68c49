// SPDX-License-Identifier: Apache-2.0
// Hostile input on a node's port: garbage, an oversized length, a truncated handshake, a wrong
// version, a wrong secret. The node refuses each, stays up, and keeps serving its peers. Each
// case also checks *why* the connection was closed, with the node's per-reason counters
// (hypar_handshake_refusals_total, hypar_protocol_violations_total): a check that was removed
// would let the connection run into the handshake timeout instead, and the reason would differ.
#include <catch2/catch.hpp>

#include "hypar/transport/frame.hpp"
#include "hypar/transport/handshake.hpp"
#include "node_test_support.hpp"

using namespace hypar;
using namespace hypar::testing;

namespace {

asio::ip::tcp::endpoint endpoint_of(const Node& n) {
  return {asio::ip::make_address("127.0.0.1"), n.id().address.port};
}

// Connects a raw socket to `target`, writes `bytes`, and runs until the node closes it.
bool node_closes_after(asio::io_context& io, const Node& target, const std::vector<std::uint8_t>& bytes) {
  asio::ip::tcp::socket s(io);
  s.connect(endpoint_of(target));
  asio::write(s, asio::buffer(bytes));
  bool closed = false;
  std::array<std::uint8_t, 4096> sink{};
  std::function<void()> read_more = [&] {
    s.async_read_some(asio::buffer(sink), [&](asio::error_code ec, std::size_t) {
      if (ec) closed = true; else read_more();
    });
  };
  read_more();
  return run_until(io, [&] { return closed; }, seconds(5));
}

std::vector<std::uint8_t> hello_frame(transport::Hello hello) {
  std::vector<std::uint8_t> payload, out;
  transport::encode_hello(hello, payload);
  transport::append_frame(out, payload);
  return out;
}

std::uint64_t refusals(const Node& n, HandshakeRefusal reason) {
  return n.metrics().counters.handshake_refusals[static_cast<std::size_t>(reason)];
}

std::uint64_t total_refusals(const Node& n) {
  std::uint64_t total = 0;
  for (const auto v : n.metrics().counters.handshake_refusals) total += v;
  return total;
}

// The node refused exactly one connection, for `reason`.
void refused_once_for(const Node& n, HandshakeRefusal reason) {
  INFO("expected reason: " << refusal_name(reason));
  REQUIRE(refusals(n, reason) == 1);
  REQUIRE(total_refusals(n) == 1);
}

struct Pair {
  asio::io_context io;
  std::unique_ptr<Node> a, b;
  explicit Pair(NodeConfig ca = fast_config("a"), NodeConfig cb = fast_config("b")) {
    a = std::make_unique<Node>(io, ca);
    b = std::make_unique<Node>(io, cb);
    asio::co_spawn(io, join_into(*b, {a->id().address}, nullptr), asio::detached);
    REQUIRE(run_until(io, [&] { return has_peer(*a, b->id().address) && has_peer(*b, a->id().address); }, seconds(5)));
  }
  void still_serving() {
    REQUIRE(has_peer(*a, b->id().address));
    const std::vector<std::uint8_t> bytes{42};
    auto b_log = std::make_shared<EventLog>();
    collect_events(io, *b, b_log);
    REQUIRE(a->try_send(b->id().address, bytes) == SendResult::ok);
    REQUIRE(run_until(io, [&] { return !b_log->all<Received>().empty(); }, seconds(5)));
  }
};

}  // namespace

TEST_CASE("hostile: garbage bytes are refused and the node keeps serving") {
  Pair p;
  std::vector<std::uint8_t> garbage(300);
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<std::uint8_t>(i * 37 + 11);
  SECTION("in a frame of a plausible length") {
    const std::vector<std::uint8_t> payload(garbage.begin(), garbage.begin() + 296);
    std::vector<std::uint8_t> framed;
    transport::append_frame(framed, payload);
    REQUIRE(node_closes_after(p.io, *p.a, framed));
    refused_once_for(*p.a, HandshakeRefusal::not_hello);
  }
  SECTION("raw (its first four bytes read as a huge length)") {
    REQUIRE(node_closes_after(p.io, *p.a, garbage));
    refused_once_for(*p.a, HandshakeRefusal::frame_too_large);
  }
  p.still_serving();
}

TEST_CASE("hostile: an oversized frame length is refused") {
  Pair p;
  REQUIRE(node_closes_after(p.io, *p.a, {0xff, 0xff, 0xff, 0xff, 0x00}));
  refused_once_for(*p.a, HandshakeRefusal::frame_too_large);
  p.still_serving();
}

TEST_CASE("hostile: a truncated HELLO followed by silence times out") {
  Pair p;
  auto frame = hello_frame(transport::Hello{.sender = PeerId{*Address::parse("127.0.0.1:5555"), "x", 1}});
  frame.resize(frame.size() / 2);
  REQUIRE(node_closes_after(p.io, *p.a, frame));  // closed by the handshake timeout
  refused_once_for(*p.a, HandshakeRefusal::timeout);
  p.still_serving();
  REQUIRE_FALSE(has_peer(*p.a, *Address::parse("127.0.0.1:5555")));
}

TEST_CASE("hostile: a HELLO of another version is refused") {
  Pair p;
  auto frame = hello_frame(transport::Hello{.sender = PeerId{*Address::parse("127.0.0.1:5556"), "x", 1}});
  frame[4 + 1 + 4] = 99;  // length, type, magic, then the version byte
  REQUIRE(node_closes_after(p.io, *p.a, frame));
  refused_once_for(*p.a, HandshakeRefusal::bad_version);
  p.still_serving();
}

TEST_CASE("hostile: a valid HELLO followed by a malformed message closes that connection only") {
  Pair p;
  const PeerId intruder{*Address::parse("127.0.0.1:5557"), "x", 1};
  auto bytes = hello_frame(transport::Hello{.sender = intruder});
  const std::vector<std::uint8_t> bad_message{0x06, 0x01};  // a SHUFFLE cut short
  transport::append_frame(bytes, bad_message);
  REQUIRE(node_closes_after(p.io, *p.a, bytes));
  REQUIRE(total_refusals(*p.a) == 0);  // the handshake passed: the message itself closed it
  const auto& violations = p.a->metrics().counters.protocol_violations;
  REQUIRE(violations[static_cast<std::size_t>(ProtocolViolation::malformed_message)] == 1);
  REQUIRE(violations[static_cast<std::size_t>(ProtocolViolation::frame_error)] == 0);
  REQUIRE(violations[static_cast<std::size_t>(ProtocolViolation::unexpected_frame)] == 0);
  p.still_serving();
  REQUIRE_FALSE(has_peer(*p.a, intruder.address));
  for (const auto& q : p.a->passive_peers()) REQUIRE(q.address != intruder.address);
}

TEST_CASE("hostile: a node with the wrong cluster secret never enters any view") {
  NodeConfig ca = fast_config("a"), cb = fast_config("b"), cc = fast_config("c");
  ca.secret = cb.secret = "correct horse battery staple";
  cc.secret = "a different secret entirely";
  Pair p(ca, cb);
  Node c(p.io, cc);
  std::optional<bool> joined;
  asio::co_spawn(p.io, join_into(c, {p.a->id().address}, &joined), asio::detached);
  REQUIRE(run_until(p.io, [&] { return joined.has_value(); }, seconds(5)));
  REQUIRE_FALSE(*joined);
  REQUIRE(refusals(*p.a, HandshakeRefusal::wrong_secret) >= 1);  // c retried: one per attempt
  REQUIRE(refusals(*p.a, HandshakeRefusal::wrong_secret) == total_refusals(*p.a));
  REQUIRE(c.metrics().counters.connect_failures[static_cast<std::size_t>(ConnectFailure::handshake)] >= 1);
  REQUIRE_FALSE(has_peer(*p.a, c.id().address));
  for (const auto& q : p.a->passive_peers()) REQUIRE(q.address != c.id().address);
  p.still_serving();

  SECTION("and a node without a secret is refused too") {
    Node d(p.io, fast_config("d"));
    std::optional<bool> d_joined;
    asio::co_spawn(p.io, join_into(d, {p.a->id().address}, &d_joined), asio::detached);
    REQUIRE(run_until(p.io, [&] { return d_joined.has_value(); }, seconds(5)));
    REQUIRE_FALSE(*d_joined);
    REQUIRE(refusals(*p.a, HandshakeRefusal::auth_mismatch) >= 1);
  }
}

TEST_CASE("keepalive: a neighbour that goes silent is dropped as timed out") {
  asio::io_context io;
  Node a(io, fast_config("a"));  // keepalive every 100 ms, timeout 600 ms
  auto a_log = std::make_shared<EventLog>();
  collect_events(io, a, a_log);
  // A raw peer: handshake, ask to be a neighbour, then never say anything again.
  const PeerId silent{*Address::parse("127.0.0.1:5558"), "silent", 1};
  auto bytes = hello_frame(transport::Hello{.sender = silent});
  const std::vector<std::uint8_t> neighbor_high{0x03, 0x01};
  transport::append_frame(bytes, neighbor_high);
  asio::ip::tcp::socket s(io);
  s.connect(endpoint_of(a));
  asio::write(s, asio::buffer(bytes));
  REQUIRE(run_until(io, [&] { return has_peer(a, silent.address); }, seconds(5)));
  // (The view changes before the collector coroutine has read the event: wait for both.)
  REQUIRE(run_until(io, [&] { return !has_peer(a, silent.address) && !a_log->all<LinkDown>().empty(); }, seconds(5)));
  const auto downs = a_log->all<LinkDown>();
  REQUIRE(downs.size() == 1);
  REQUIRE(downs[0].peer == silent);
  REQUIRE(downs[0].reason == DownReason::timed_out);
}
