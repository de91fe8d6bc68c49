// Hostile input on a node's port: garbage, an oversized length, a truncated handshake, a wrong
// version, a wrong secret. The node refuses each, stays up, and keeps serving its peers.
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
    REQUIRE(run_until(io, [&] { return !b_log->all<Message>().empty(); }, seconds(5)));
  }
};

}  // namespace

TEST_CASE("hostile: garbage bytes are refused and the node keeps serving") {
  Pair p;
  std::vector<std::uint8_t> garbage(300);
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<std::uint8_t>(i * 37 + 11);
  REQUIRE(node_closes_after(p.io, *p.a, garbage));
  p.still_serving();
}

TEST_CASE("hostile: an oversized frame length is refused") {
  Pair p;
  REQUIRE(node_closes_after(p.io, *p.a, {0xff, 0xff, 0xff, 0xff, 0x00}));
  p.still_serving();
}

TEST_CASE("hostile: a truncated HELLO followed by silence times out") {
  Pair p;
  auto frame = hello_frame(transport::Hello{.sender = PeerId{*Address::parse("127.0.0.1:5555"), "x", 1}});
  frame.resize(frame.size() / 2);
  REQUIRE(node_closes_after(p.io, *p.a, frame));  // closed by the handshake timeout
  p.still_serving();
  REQUIRE_FALSE(has_peer(*p.a, *Address::parse("127.0.0.1:5555")));
}

TEST_CASE("hostile: a HELLO of another version is refused") {
  Pair p;
  auto frame = hello_frame(transport::Hello{.sender = PeerId{*Address::parse("127.0.0.1:5556"), "x", 1}});
  frame[4 + 1 + 4] = 99;  // length, type, magic, then the version byte
  REQUIRE(node_closes_after(p.io, *p.a, frame));
  p.still_serving();
}

TEST_CASE("hostile: a valid HELLO followed by a malformed message closes that connection only") {
  Pair p;
  const PeerId intruder{*Address::parse("127.0.0.1:5557"), "x", 1};
  auto bytes = hello_frame(transport::Hello{.sender = intruder});
  const std::vector<std::uint8_t> bad_message{0x06, 0x01};  // a SHUFFLE cut short
  transport::append_frame(bytes, bad_message);
  REQUIRE(node_closes_after(p.io, *p.a, bytes));
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
  REQUIRE_FALSE(has_peer(*p.a, c.id().address));
  for (const auto& q : p.a->passive_peers()) REQUIRE(q.address != c.id().address);
  p.still_serving();

  SECTION("and a node without a secret is refused too") {
    Node d(p.io, fast_config("d"));
    std::optional<bool> d_joined;
    asio::co_spawn(p.io, join_into(d, {p.a->id().address}, &d_joined), asio::detached);
    REQUIRE(run_until(p.io, [&] { return d_joined.has_value(); }, seconds(5)));
    REQUIRE_FALSE(*d_joined);
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
