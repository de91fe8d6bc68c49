// Whole nodes on the in-memory transport: the real runtime and core, with faults injected by
// the network (partitions that heal, crashes, silent peers, simultaneous connects).
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "hypar/transport/mem.hpp"
#include "node_test_support.hpp"

using namespace hypar;
using namespace hypar::testing;

namespace {

struct MemCluster {
  asio::io_context io;
  std::shared_ptr<transport::MemNetwork> net = transport::MemNetwork::create(io.get_executor(), milliseconds(1));
  std::vector<std::unique_ptr<Node>> nodes;

  Node& add(const std::string& name) {
    NodeConfig c = fast_config(name);
    c.make_transport = [net = net](const asio::any_io_executor&) { return net->transport(); };
    nodes.push_back(std::make_unique<Node>(io, c));
    return *nodes.back();
  }
  Address addr(std::size_t i) const { return nodes[i]->id().address; }
  bool join_all_through(std::size_t contact) {
    std::vector<std::optional<bool>> joined(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (i == contact) continue;
      asio::co_spawn(io, join_into(*nodes[i], {addr(contact)}, &joined[i]), asio::detached);
      io.restart();
      io.run_for(milliseconds(10));
    }
    return run_until(io, [&] {
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (i != contact && joined[i] != true) return false;
      }
      return true;
    }, seconds(5));
  }
  // Connected and symmetric over the given live nodes.
  bool healthy(const std::set<std::size_t>& live) const {
    std::map<Address, std::set<Address>> graph;
    std::set<Address> live_addrs;
    for (auto i : live) live_addrs.insert(addr(i));
    for (auto i : live) {
      for (const auto& p : nodes[i]->peers()) {
        if (!live_addrs.count(p.address)) return false;
        graph[addr(i)].insert(p.address);
      }
      if (graph[addr(i)].empty()) return false;
    }
    for (const auto& [a, out] : graph) {
      for (const auto& b : out) {
        if (!graph[b].count(a)) return false;
      }
    }
    std::set<Address> seen{addr(*live.begin())};
    std::vector<Address> todo{addr(*live.begin())};
    while (!todo.empty()) {
      const Address a = todo.back();
      todo.pop_back();
      for (const auto& b : graph[a]) {
        if (seen.insert(b).second) todo.push_back(b);
      }
    }
    return seen.size() == live.size();
  }
  std::set<std::size_t> all() const {
    std::set<std::size_t> s;
    for (std::size_t i = 0; i < nodes.size(); ++i) s.insert(i);
    return s;
  }
};

}  // namespace

TEST_CASE("mem: 20 nodes join, shuffle fills passive views, the overlay is healthy") {
  MemCluster c;
  for (int i = 0; i < 20; ++i) c.add("m" + std::to_string(i));
  REQUIRE(c.join_all_through(0));
  REQUIRE(run_until(c.io, [&] { return c.healthy(c.all()); }, seconds(10)));
  c.io.restart();
  c.io.run_for(seconds(3));  // six shuffle periods
  std::size_t with_spares = 0;
  for (const auto& n : c.nodes) with_spares += n->passive_peers().size() >= 5 ? 1 : 0;
  REQUIRE(with_spares == c.nodes.size());
  REQUIRE(c.healthy(c.all()));
}

TEST_CASE("mem: crashed nodes leave every view and the survivors stay healthy") {
  MemCluster c;
  for (int i = 0; i < 16; ++i) c.add("m" + std::to_string(i));
  REQUIRE(c.join_all_through(0));
  c.io.restart();
  c.io.run_for(seconds(2));
  std::set<std::size_t> live = c.all();
  for (std::size_t i : {3u, 7u, 11u, 12u}) {
    c.net->kill(c.addr(i));
    live.erase(i);
  }
  REQUIRE(run_until(c.io, [&] { return c.healthy(live); }, seconds(10)));
}

TEST_CASE("mem: a partition is detected by keepalive, and the overlay heals after it") {
  MemCluster c;
  for (int i = 0; i < 12; ++i) c.add("m" + std::to_string(i));
  REQUIRE(c.join_all_through(0));
  REQUIRE(run_until(c.io, [&] { return c.healthy(c.all()); }, seconds(10)));
  c.io.restart();
  c.io.run_for(seconds(2));  // passive views fill on both sides of the coming cut

  std::vector<Address> left, right;
  std::set<std::size_t> left_idx, right_idx;
  for (std::size_t i = 0; i < c.nodes.size(); ++i) {
    (i < 6 ? left : right).push_back(c.addr(i));
    (i < 6 ? left_idx : right_idx).insert(i);
  }
  c.net->partition(left, right);
  // Across the cut nothing arrives: keepalive declares those neighbours timed out, and each
  // side rebuilds its views among its own members.
  const bool split = run_until(c.io, [&] {
    for (auto i : left_idx) {
      for (const auto& p : c.nodes[i]->peers()) {
        if (std::find(right.begin(), right.end(), p.address) != right.end()) return false;
      }
    }
    return true;
  }, seconds(10));
  REQUIRE(split);

  c.net->heal();
  // After the cut heals, re-joins, promotions and shuffles make one overlay again.
  REQUIRE(run_until(c.io, [&] {
    bool crossing = false;
    for (auto i : left_idx) {
      for (const auto& p : c.nodes[i]->peers()) {
        crossing |= std::find(right.begin(), right.end(), p.address) != right.end();
      }
    }
    return crossing && c.healthy(c.all());
  }, seconds(30)));
}

TEST_CASE("mem: a silent neighbour is dropped with reason timed_out") {
  MemCluster c;
  Node& a = c.add("a");
  Node& b = c.add("b");
  auto a_log = std::make_shared<EventLog>();
  collect_events(c.io, a, a_log);
  REQUIRE(c.join_all_through(0));
  REQUIRE(run_until(c.io, [&] { return has_peer(a, b.id().address); }, seconds(5)));
  c.net->partition({a.id().address}, {b.id().address});
  REQUIRE(run_until(c.io, [&] { return !has_peer(a, b.id().address); }, seconds(5)));
  const auto downs = a_log->all<LinkDown>();
  REQUIRE(downs.size() == 1);
  REQUIRE(downs[0].reason == DownReason::timed_out);
}

TEST_CASE("mem: two nodes dialling each other at once end with one link each way") {
  MemCluster c;
  Node& a = c.add("a");
  Node& b = c.add("b");
  auto a_log = std::make_shared<EventLog>(), b_log = std::make_shared<EventLog>();
  collect_events(c.io, a, a_log);
  collect_events(c.io, b, b_log);
  std::optional<bool> a_joined, b_joined;
  asio::co_spawn(c.io, join_into(a, {b.id().address}, &a_joined), asio::detached);
  asio::co_spawn(c.io, join_into(b, {a.id().address}, &b_joined), asio::detached);
  REQUIRE(run_until(c.io, [&] { return a_joined && b_joined; }, seconds(5)));
  REQUIRE(*a_joined);
  REQUIRE(*b_joined);
  c.io.restart();
  c.io.run_for(milliseconds(500));
  REQUIRE(a.peers().size() == 1);
  REQUIRE(b.peers().size() == 1);
  REQUIRE(a_log->all<LinkUp>().size() == 1);
  REQUIRE(b_log->all<LinkUp>().size() == 1);
  REQUIRE(a_log->all<LinkDown>().empty());
  // The surviving link carries messages both ways.
  const std::vector<std::uint8_t> ping{1, 2, 3};
  REQUIRE(a.try_send(b.id().address, ping) == SendResult::ok);
  REQUIRE(b.try_send(a.id().address, ping) == SendResult::ok);
  REQUIRE(run_until(c.io, [&] { return a_log->all<Message>().size() == 1 && b_log->all<Message>().size() == 1; }, seconds(5)));
}
