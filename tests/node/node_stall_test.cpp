// SPDX-License-Identifier: Apache-2.0
// A node whose own event loop stalls (a GC pause, a VM steal, a host starved of CPU) must not
// blame its peers for the time it was not running itself (issue 17): no link goes down, and a
// handshake the stall interrupted still completes. Real nodes over loopback TCP, one io_context
// for all of them, blocked by a handler that sleeps.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <thread>

#include "hypar/transport/frame.hpp"
#include "hypar/transport/handshake.hpp"
#include "node_test_support.hpp"

using namespace hypar;
using namespace hypar::testing;

namespace {

// Keepalive every 200 ms, timeout 1 s: a stall of 2.5 s is more than twice the timeout. No shuffles
// or join swaps in the test's time (the test is about keepalive), though a node still short of
// neighbours may have a NEIGHBOR request in flight when the loop stalls.
NodeConfig stall_config(const std::string& name) {
  NodeConfig c = fast_config(name);
  c.options.keepalive_interval = milliseconds(200);
  c.options.keepalive_timeout = seconds(1);
  c.options.shuffle_period = seconds(60);
  c.options.join_swaps = 0;
  c.handshake_timeout = seconds(1);
  return c;
}

constexpr auto kStall = std::chrono::milliseconds(2500);

// Blocks `io`'s thread for `how_long` from inside one of its handlers, as a stalled loop would.
void stall_the_loop(asio::io_context& io, std::chrono::milliseconds how_long) {
  bool ran = false;
  asio::post(io, [&] {
    std::this_thread::sleep_for(how_long);
    ran = true;
  });
  REQUIRE(run_until(io, [&] { return ran; }, seconds(10)));
}

// Links lost to silence or to a broken connection (a peer that declared us dead closes the link).
std::size_t links_lost(const EventLog& log) {
  std::size_t lost = 0;
  for (const auto& down : log.all<LinkDown>()) {
    if (down.reason == DownReason::timed_out || down.reason == DownReason::failed) ++lost;
  }
  return lost;
}

asio::ip::tcp::endpoint endpoint_of(const Node& n) {
  return {asio::ip::make_address("127.0.0.1"), n.id().address.port};
}

std::vector<std::uint8_t> hello_frame(const PeerId& sender) {
  std::vector<std::uint8_t> payload, out;
  transport::encode_hello(transport::Hello{.sender = sender}, payload);
  transport::append_frame(out, payload);
  return out;
}

// Every node's active view.
std::vector<std::set<Address>> views(const std::vector<std::unique_ptr<Node>>& nodes) {
  std::vector<std::set<Address>> out;
  for (const auto& n : nodes) {
    out.emplace_back();
    for (const auto& p : n->peers()) out.back().insert(p.address);
  }
  return out;
}

std::uint64_t handshake_timeouts(const Node& n) {
  return n.metrics().counters.handshake_refusals[static_cast<std::size_t>(HandshakeRefusal::timeout)];
}

}  // namespace

TEST_CASE("stall: a loop blocked for longer than the keepalive timeout keeps every link") {
  asio::io_context io;
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::shared_ptr<EventLog>> logs;
  for (int i = 0; i < 6; ++i) {
    nodes.push_back(std::make_unique<Node>(io, stall_config("n" + std::to_string(i))));
    logs.push_back(std::make_shared<EventLog>());
    collect_events(io, *nodes.back(), logs.back());
  }
  for (std::size_t i = 1; i < nodes.size(); ++i) {
    std::optional<bool> joined;
    asio::co_spawn(io, join_into(*nodes[i], {nodes[0]->id().address}, &joined), asio::detached);
    REQUIRE(run_until(io, [&] { return joined.has_value(); }, seconds(10)));
    REQUIRE(*joined);
  }
  test::ViewGraph<Address> g;
  REQUIRE(run_until(io, [&] {
    g = view_graph(nodes);
    return g.symmetric() && g.connected() && g.min_degree() >= 1;
  }, seconds(10)));
  run_until(io, [] { return false; }, milliseconds(500));  // a few keepalive rounds on every link
  for (const auto& log : logs) REQUIRE(links_lost(*log) == 0);
  const auto views_before = views(nodes);

  stall_the_loop(io, kStall);
  // Three keepalive timeouts of running time after the stall: any link the stall made look dead
  // would be gone by now, and its LinkDown delivered.
  run_until(io, [] { return false; }, seconds(3));

  // No view lost a peer. A view may have grown: a node still short of neighbours when the loop
  // stalled (on a loaded machine the 500 ms above may not fill every view) had a NEIGHBOR request
  // in flight, answered after the stall.
  const auto views_after = views(nodes);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    INFO("node " << i);
    CHECK(links_lost(*logs[i]) == 0);
    for (const Address& peer : views_before[i]) CHECK(views_after[i].count(peer) == 1);
  }
}

TEST_CASE("stall: a handshake the stall interrupted completes when the peer answers after it") {
  asio::io_context io;
  Node a(io, stall_config("a"));
  // A raw peer connects; the node sends its HELLO and waits for ours within handshake_timeout (1 s).
  asio::ip::tcp::socket s(io);
  s.connect(endpoint_of(a));
  REQUIRE(run_until(io, [&] { return a.metrics().inbound_handshakes == 1; }, seconds(5)));

  // The loop stalls past the deadline; the peer, slow too, answers only after the stall.
  stall_the_loop(io, kStall);
  run_until(io, [] { return false; }, milliseconds(200));
  const PeerId late{*Address::parse("127.0.0.1:5571"), "late", 1};
  auto bytes = hello_frame(late);
  const std::vector<std::uint8_t> neighbor_high{0x03, 0x01};
  transport::append_frame(bytes, neighbor_high);
  asio::write(s, asio::buffer(bytes));

  // The handshake completes and the raw peer becomes a neighbour; nothing timed out.
  CHECK(run_until(io, [&] { return has_peer(a, late.address); }, seconds(3)));
  CHECK(handshake_timeouts(a) == 0);
  CHECK(a.metrics().inbound_handshakes == 0);
}

TEST_CASE("stall: a connection that never answers is still cut, within twice the timeout plus the stall") {
  asio::io_context io;
  Node a(io, stall_config("a"));
  const auto t0 = std::chrono::steady_clock::now();
  asio::ip::tcp::socket s(io);
  s.connect(endpoint_of(a));
  REQUIRE(run_until(io, [&] { return a.metrics().inbound_handshakes == 1; }, seconds(5)));
  stall_the_loop(io, kStall);
  bool closed = false;
  std::array<std::uint8_t, 256> sink{};
  std::function<void()> read_more = [&] {
    s.async_read_some(asio::buffer(sink), [&](asio::error_code ec, std::size_t) {
      if (ec) closed = true; else read_more();
    });
  };
  read_more();
  REQUIRE(run_until(io, [&] { return closed; }, seconds(5)));
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(handshake_timeouts(a) == 1);
  CHECK(took <= 2 * stall_config("a").handshake_timeout + kStall + milliseconds(500));
}
