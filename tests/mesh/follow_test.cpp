// SPDX-License-Identifier: Apache-2.0
// follow_membership: a PartialMesh driven by a node's membership subscription, with whole nodes
// on the in-memory network in virtual time. Each node advertises an application service in its
// metadata; node 0's mesh must hold one real connection per active peer as peers come and go,
// and recover from a lag through the snapshot (dropping peers that left while it lagged).
#include <catch2/catch.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <map>
#include <set>

#include "../node/mem_cluster.hpp"
#include "hypar/mesh/follow.hpp"

using namespace hypar;
using namespace hypar::testing;
using Connection = std::unique_ptr<transport::Connection>;

namespace {

Address service_of(int i) { return Address::v4(10, 0, 1, static_cast<std::uint8_t>(i), 9000); }

// Nodes with an application service each (on the same in-memory network), and node 0's mesh.
struct MeshCluster {
  MemCluster c{milliseconds(1), /*fast=*/true};
  std::vector<std::unique_ptr<transport::Transport>> service_transports;
  std::vector<std::unique_ptr<transport::Listener>> listeners;
  std::map<Address, int> open;  // application connections open, by service endpoint
  std::unique_ptr<transport::Transport> client = c.net->transport();
  std::optional<PartialMesh<Connection>> mesh;

  explicit MeshCluster(int nodes) {
    for (int i = 0; i < nodes; ++i) add_node();
    mesh.emplace(c.io.get_executor(),
                 PartialMesh<Connection>::Callbacks{
                     .connect = [this](const MeshPeer& p) { return connect(p); },
                     .disconnect = [](Connection& conn) -> asio::awaitable<void> {
                       conn->close();
                       co_return;
                     }},
                 MeshOptions{.retry_min = milliseconds(50), .retry_max = milliseconds(500)});
  }
  ~MeshCluster() {
    bool stopped = false;
    asio::co_spawn(c.io, mesh->stop(), [&](std::exception_ptr) { stopped = true; });
    c.run_until([&] { return stopped; }, seconds(5));
  }

  asio::awaitable<Connection> connect(const MeshPeer& p) {
    co_return co_await client->connect(*Address::parse(p.metadata.at("app")));
  }

  Node& add_node() {
    const int i = static_cast<int>(c.nodes.size());
    NodeConfig config = c.config("n" + std::to_string(i));
    config.metadata = {{"app", service_of(i).to_string()}};
    service_transports.push_back(c.net->transport());
    listeners.push_back(service_transports.back()->listen(service_of(i)));
    asio::co_spawn(c.io, serve(*listeners.back(), service_of(i)), [](std::exception_ptr) {});
    return c.add(config);
  }

  asio::awaitable<void> serve(transport::Listener& listener, Address at) {
    for (;;) {
      std::shared_ptr<transport::Connection> conn = co_await listener.accept();
      ++open[at];
      asio::co_spawn(c.io, read_until_closed(conn, at), [](std::exception_ptr) {});
    }
  }
  asio::awaitable<void> read_until_closed(std::shared_ptr<transport::Connection> conn, Address at) {
    std::uint8_t buffer[64];
    try {
      while (co_await conn->read_some(buffer) > 0) {
      }
    } catch (const std::exception&) {
    }
    --open[at];
  }

  Node& a() { return *c.nodes[0]; }
  std::vector<Address> active() {
    std::vector<Address> out;
    for (const auto& p : a().peers()) out.push_back(p.address);
    std::sort(out.begin(), out.end());
    return out;
  }
  int index_of(const Address& member) const {
    for (std::size_t i = 0; i < c.nodes.size(); ++i) {
      if (c.addr(i) == member) return static_cast<int>(i);
    }
    return -1;
  }
  // The mesh holds a connection to exactly node 0's active peers, and the services see exactly
  // one open connection from it each (none to any other).
  bool in_step() {
    const std::vector<Address> want = active();
    if (want.empty() || mesh->connected() != want) return false;
    for (std::size_t i = 1; i < c.nodes.size(); ++i) {
      const bool peer = std::find(want.begin(), want.end(), c.addr(i)) != want.end();
      if (open[service_of(static_cast<int>(i))] != (peer ? 1 : 0)) return false;
    }
    return true;
  }
  void join_new(std::size_t i) {
    asio::co_spawn(c.io, join_into(*c.nodes[i], {c.addr(0)}, nullptr), asio::detached);
  }
};

struct Following {
  bool ended = false;
  std::exception_ptr error;
};

std::shared_ptr<Following> follow(MeshCluster& m, MembershipSubscription& members,
                                  asio::cancellation_signal* cancel = nullptr) {
  auto state = std::make_shared<Following>();
  auto done = [state](std::exception_ptr e) {
    state->ended = true;
    state->error = e;
  };
  if (cancel) {
    asio::co_spawn(m.c.io, follow_membership(members, *m.mesh), asio::bind_cancellation_slot(cancel->slot(), done));
  } else {
    asio::co_spawn(m.c.io, follow_membership(members, *m.mesh), done);
  }
  return state;
}

}  // namespace

TEST_CASE("follow: node 0's application connections follow its active view as peers come and go") {
  MeshCluster m(10);
  MembershipSubscription members = m.a().subscribe();
  auto following = follow(m, members);
  REQUIRE(m.c.join_all_through(0));
  REQUIRE(m.c.run_until([&] { return m.c.healthy(m.c.all()) && m.in_step(); }, seconds(20)));
  REQUIRE(m.active().size() >= 3);

  // Three of its neighbours crash: the mesh drops them and connects to their replacements.
  std::set<std::size_t> live = m.c.all();
  const std::vector<Address> before = m.active();
  for (std::size_t k = 0; k < 3; ++k) {
    const int i = m.index_of(before[k]);
    m.c.net->kill(before[k]);
    live.erase(static_cast<std::size_t>(i));
  }
  REQUIRE(m.c.run_until([&] {
    for (std::size_t k = 0; k < 3; ++k) {
      if (m.mesh->find(before[k]) != nullptr) return false;
    }
    return m.c.healthy(live) && m.in_step();
  }, seconds(30)));

  // New nodes join through it: evictions and new links, and the mesh keeps up.
  for (int k = 0; k < 4; ++k) {
    m.add_node();
    m.join_new(m.c.nodes.size() - 1);
    m.c.run_for(milliseconds(100));
    live.insert(m.c.nodes.size() - 1);
  }
  REQUIRE(m.c.run_until([&] { return m.c.healthy(live) && m.in_step(); }, seconds(30)));
  REQUIRE(m.mesh->stats().disconnects >= 3);

  members.close();  // stops following
  REQUIRE(m.c.run_until([&] { return following->ended; }, seconds(1)));
  REQUIRE(!following->error);
}

TEST_CASE("follow: after a lag, the snapshot resets the mesh and drops peers that left meanwhile") {
  MeshCluster m(6);
  const std::size_t capacity = NodeConfig{}.options.active_size + 2;
  MembershipSubscription members = m.a().subscribe(capacity);
  MembershipSubscription probe = m.a().subscribe(capacity);  // the same stream, inspected below
  asio::cancellation_signal pause;
  auto following = follow(m, members, &pause);
  REQUIRE(m.c.join_all_through(0));
  REQUIRE(m.c.run_until([&] { return m.c.healthy(m.c.all()) && m.in_step(); }, seconds(20)));

  // Stop reading; the subscription stays open and keeps buffering.
  pause.emit(asio::cancellation_type::terminal);
  REQUIRE(m.c.run_until([&] { return following->ended; }, seconds(1)));
  while (probe.poll()) {
  }
  REQUIRE(members.pending() == 0);

  // Two neighbours leave the overlay (their application services stay up, so only the mesh can
  // close those connections), then new nodes join through node 0 until its subscribers lag.
  const std::vector<Address> gone{m.active()[0], m.active()[1]};
  std::set<std::size_t> live = m.c.all();
  for (const Address& g : gone) {
    m.c.net->kill(g);
    live.erase(static_cast<std::size_t>(m.index_of(g)));
  }
  REQUIRE(m.c.run_until([&] { return m.c.healthy(live); }, seconds(30)));
  for (int k = 0; k < 8; ++k) {
    m.add_node();
    m.join_new(m.c.nodes.size() - 1);
    live.insert(m.c.nodes.size() - 1);
    m.c.run_for(milliseconds(200));
  }
  REQUIRE(m.c.run_until([&] { return m.c.healthy(live); }, seconds(30)));
  m.c.run_for(seconds(1));
  REQUIRE(m.mesh->connected().size() >= 2);
  for (const Address& g : gone) REQUIRE(m.mesh->find(g) != nullptr);  // stale: nobody told the mesh

  // The buffered stream: a Lagged first, and the LinkDowns of the two peers were lost with it.
  std::vector<MembershipEvent> stream;
  while (auto e = probe.poll()) stream.push_back(std::move(*e));
  REQUIRE_FALSE(stream.empty());
  REQUIRE(std::holds_alternative<Lagged>(stream[0]));
  for (const auto& e : stream) {
    if (const auto* down = std::get_if<LinkDown>(&e)) {
      REQUIRE(std::find(gone.begin(), gone.end(), down->peer.address) == gone.end());
    }
  }

  // Following again: the snapshot resets the mesh to the active view.
  auto again = follow(m, members);
  REQUIRE(m.c.run_until([&] { return m.in_step(); }, seconds(10)));
  for (const Address& g : gone) REQUIRE(m.mesh->find(g) == nullptr);
  members.close();
  REQUIRE(m.c.run_until([&] { return again->ended; }, seconds(1)));
}
