// SPDX-License-Identifier: Apache-2.0
// PartialMesh keeping real application connections (in-memory network, virtual time) in step
// with membership events: one connection per up peer, retries, cancellation, flapping, stop.
#include "hypar/mesh/partial_mesh.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

#include "hypar/runtime/clock.hpp"
#include "hypar/transport/mem.hpp"

using namespace hypar;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Connection = std::unique_ptr<transport::Connection>;

namespace {

// The application's side: a service per peer (its own endpoint, not the membership address) that
// counts open connections, and a client whose connects the tests can slow, fail and observe.
struct App {
  VirtualClock clock;
  asio::io_context io;
  std::shared_ptr<transport::MemNetwork> net = transport::MemNetwork::create(io.get_executor());
  std::unique_ptr<transport::Transport> client = net->transport();
  std::vector<std::unique_ptr<transport::Transport>> server_transports;
  std::vector<std::unique_ptr<transport::Listener>> listeners;
  std::map<Address, int> open;      // by service endpoint
  std::map<Address, int> accepted;  // by service endpoint

  Duration connect_delay{};
  bool honour_cancellation = true;
  int fail_next = 0;
  std::map<Address, int> in_flight;  // by membership address
  int max_in_flight = 0;
  int cancelled_connects = 0;
  std::vector<Instant> attempt_times;

  static Address member(int i) { return Address::v4(10, 0, 0, static_cast<std::uint8_t>(i), 7000); }
  static Address service(int i) { return Address::v4(10, 0, 1, static_cast<std::uint8_t>(i), 9000); }
  static MeshPeer peer(int i) { return {member(i), "n" + std::to_string(i), {{"app", service(i).to_string()}}}; }

  explicit App(int services) {
    for (int i = 1; i <= services; ++i) serve(i);
  }

  void serve(int i) {
    server_transports.push_back(net->transport());
    listeners.push_back(server_transports.back()->listen(service(i)));
    asio::co_spawn(io, accept_loop(*listeners.back(), service(i)), [](std::exception_ptr) {});
  }

  asio::awaitable<void> accept_loop(transport::Listener& listener, Address at) {
    for (;;) {
      std::shared_ptr<transport::Connection> c = co_await listener.accept();
      ++open[at];
      ++accepted[at];
      asio::co_spawn(io, read_until_closed(c, at), [](std::exception_ptr) {});
    }
  }

  asio::awaitable<void> read_until_closed(std::shared_ptr<transport::Connection> c, Address at) {
    std::uint8_t buffer[64];
    try {
      while (co_await c->read_some(buffer) > 0) {
      }
    } catch (const std::exception&) {
    }
    --open[at];
  }

  asio::awaitable<Connection> connect(const MeshPeer& p) {
    attempt_times.push_back(Clock::now());
    const int now_in_flight = ++in_flight[p.address];
    max_in_flight = std::max(max_in_flight, now_in_flight);
    struct Leave {
      int& count;
      ~Leave() { --count; }
    } leave{in_flight[p.address]};
    if (connect_delay > Duration::zero()) {
      bool cancelled = false;
      try {
        co_await sleep_for(connect_delay);
      } catch (const asio::system_error&) {
        cancelled = true;
        ++cancelled_connects;
        if (honour_cancellation) throw;
      }
      if (cancelled) co_await asio::this_coro::reset_cancellation_state();  // a connect that ignores it
    }
    if (fail_next > 0) {
      --fail_next;
      throw std::runtime_error("refused by the test");
    }
    co_return co_await client->connect(*Address::parse(p.metadata.at("app")));
  }

  PartialMesh<Connection>::Callbacks callbacks() {
    return {
        .connect = [this](const MeshPeer& p) { return connect(p); },
        .disconnect = [](Connection& c) -> asio::awaitable<void> {
          c->close();
          co_return;
        },
    };
  }

  bool run_until(const std::function<bool()>& done, Duration timeout = seconds(10)) {
    return clock.run_until(io, done, timeout);
  }
  void stop(PartialMesh<Connection>& mesh) {
    bool stopped = false;
    asio::co_spawn(io, mesh.stop(), [&](std::exception_ptr e) {
      REQUIRE(!e);
      stopped = true;
    });
    REQUIRE(run_until([&] { return stopped; }));
  }
  // True when the mesh holds exactly one connection to each peer in `up` and the services see
  // exactly those open.
  bool matches(const PartialMesh<Connection>& mesh, const std::set<int>& up, int services) {
    std::vector<Address> want;
    for (int i : up) want.push_back(member(i));
    if (mesh.connected() != want) return false;
    for (int i = 1; i <= services; ++i) {
      if (open[service(i)] != (up.contains(i) ? 1 : 0)) return false;
    }
    return true;
  }
};

}  // namespace

TEST_CASE("mesh: one application connection per up peer, none for a peer that went down") {
  App app(5);
  PartialMesh<Connection> mesh(app.io.get_executor(), app.callbacks());
  for (int i = 1; i <= 5; ++i) mesh.peer_up(App::peer(i));
  REQUIRE(app.run_until([&] { return app.matches(mesh, {1, 2, 3, 4, 5}, 5); }));
  REQUIRE(mesh.find(App::member(3)) != nullptr);

  mesh.peer_down(App::member(2));
  mesh.peer_down(App::member(4));
  REQUIRE(app.run_until([&] { return app.matches(mesh, {1, 3, 5}, 5); }));
  REQUIRE(mesh.find(App::member(2)) == nullptr);
  mesh.peer_up(App::peer(1));  // already connected: nothing new
  app.clock.run_for(app.io, seconds(1));
  REQUIRE(app.matches(mesh, {1, 3, 5}, 5));
  REQUIRE(mesh.stats().connects == 5);
  REQUIRE(mesh.stats().disconnects == 2);
  for (int i = 1; i <= 5; ++i) REQUIRE(app.accepted[App::service(i)] == 1);

  app.stop(mesh);
  REQUIRE(mesh.connected().empty());
  REQUIRE(app.run_until([&] { return app.matches(mesh, {}, 5); }));
}

TEST_CASE("mesh: a failed connect is retried with capped, jittered, growing waits while the peer is up") {
  App app(1);
  app.fail_next = 6;
  const MeshOptions options{.retry_min = milliseconds(100), .retry_max = milliseconds(800), .seed = 3};
  PartialMesh<Connection> mesh(app.io.get_executor(), app.callbacks(), options);
  mesh.peer_up(App::peer(1));
  REQUIRE(app.run_until([&] { return app.matches(mesh, {1}, 1); }, seconds(30)));
  REQUIRE(app.attempt_times.size() == 7);
  REQUIRE(mesh.stats().failures == 6);
  const std::vector<long> steps{100, 200, 400, 800, 800, 800};
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const auto gap = std::chrono::duration_cast<milliseconds>(app.attempt_times[k + 1] - app.attempt_times[k]).count();
    REQUIRE(gap >= steps[k] / 2);
    REQUIRE(gap <= steps[k]);
  }
  app.stop(mesh);
}

TEST_CASE("mesh: no retries once the peer is down") {
  App app(1);
  app.fail_next = 1000;
  PartialMesh<Connection> mesh(app.io.get_executor(), app.callbacks(),
                               {.retry_min = milliseconds(100), .retry_max = milliseconds(100)});
  mesh.peer_up(App::peer(1));
  REQUIRE(app.run_until([&] { return app.attempt_times.size() >= 3; }));
  mesh.peer_down(App::member(1));
  const std::size_t attempts = app.attempt_times.size();
  app.clock.run_for(app.io, seconds(5));
  REQUIRE(app.attempt_times.size() == attempts);
  REQUIRE(mesh.connected().empty());
  app.stop(mesh);
}

TEST_CASE("mesh: a peer going down cancels its connect in progress") {
  App app(1);
  app.connect_delay = seconds(1);
  PartialMesh<Connection> mesh(app.io.get_executor(), app.callbacks());
  mesh.peer_up(App::peer(1));
  app.clock.run_for(app.io, milliseconds(100));
  REQUIRE(app.in_flight[App::member(1)] == 1);
  mesh.peer_down(App::member(1));
  REQUIRE(app.run_until([&] { return app.in_flight[App::member(1)] == 0; }, milliseconds(50)));
  REQUIRE(app.cancelled_connects == 1);
  app.clock.run_for(app.io, seconds(3));
  REQUIRE(app.accepted[App::service(1)] == 0);
  REQUIRE(mesh.stats().abandoned == 1);
  app.stop(mesh);
}

TEST_CASE("mesh: a connect that completes after its peer went down is closed at once") {
  App app(1);
  app.connect_delay = seconds(1);
  app.honour_cancellation = false;
  PartialMesh<Connection> mesh(app.io.get_executor(), app.callbacks());
  mesh.peer_up(App::peer(1));
  app.clock.run_for(app.io, milliseconds(100));
  mesh.peer_down(App::member(1));
  REQUIRE(app.run_until([&] { return app.accepted[App::service(1)] == 1; }));
  REQUIRE(app.run_until([&] { return app.open[App::service(1)] == 0; }));
  REQUIRE(mesh.connected().empty());
  REQUIRE(mesh.stats().connects == 0);
  REQUIRE(mesh.stats().disconnects == 1);
  app.stop(mesh);
}

TEST_CASE("mesh: down and up again while connected replaces the connection") {
  App app(1);
  PartialMesh<Connection> mesh(app.io.get_executor(), app.callbacks());
  mesh.peer_up(App::peer(1));
  REQUIRE(app.run_until([&] { return app.matches(mesh, {1}, 1); }));
  mesh.peer_down(App::member(1));
  mesh.peer_up(App::peer(1));
  REQUIRE(app.run_until([&] { return app.accepted[App::service(1)] == 2 && app.matches(mesh, {1}, 1); }));
  app.stop(mesh);
}

TEST_CASE("mesh: peers flapping faster than connects complete never get two attempts at once") {
  for (const bool honour : {true, false}) {
    App app(6);
    app.connect_delay = milliseconds(300);
    app.honour_cancellation = honour;
    PartialMesh<Connection> mesh(app.io.get_executor(), app.callbacks(),
                                 {.retry_min = milliseconds(50), .retry_max = milliseconds(400)});
    Rng rng(honour ? 11 : 12);
    std::set<int> up;
    for (int step = 0; step < 400; ++step) {
      const int i = 1 + static_cast<int>(rng.below(6));
      if (up.contains(i)) {
        up.erase(i);
        mesh.peer_down(App::member(i));
      } else {
        up.insert(i);
        mesh.peer_up(App::peer(i));
      }
      app.fail_next = rng.below(10) == 0 ? 1 : 0;  // now and then a connect fails too
      app.clock.run_for(app.io, milliseconds(10 + rng.below(140)));
    }
    app.fail_next = 0;
    REQUIRE(app.run_until([&] { return app.matches(mesh, up, 6); }, seconds(10)));
    REQUIRE(app.max_in_flight == 1);
    REQUIRE(mesh.stats().abandoned > 0);
    app.stop(mesh);
    REQUIRE(app.run_until([&] { return app.matches(mesh, {}, 6); }));
  }
}

TEST_CASE("mesh: reset makes the up set exactly a fresh snapshot of the active view") {
  App app(4);
  PartialMesh<Connection> mesh(app.io.get_executor(), app.callbacks());
  for (int i : {1, 2, 3}) mesh.peer_up(App::peer(i));
  REQUIRE(app.run_until([&] { return app.matches(mesh, {1, 2, 3}, 4); }));
  mesh.reset({App::peer(2), App::peer(4)});
  REQUIRE(app.run_until([&] { return app.matches(mesh, {2, 4}, 4); }));
  REQUIRE(app.accepted[App::service(2)] == 1);  // kept, not reconnected
  app.stop(mesh);
}

TEST_CASE("mesh: stop cancels attempts in progress and ends every task") {
  App app(3);
  app.connect_delay = seconds(5);
  PartialMesh<Connection> mesh(app.io.get_executor(), app.callbacks());
  for (int i = 1; i <= 3; ++i) mesh.peer_up(App::peer(i));
  app.clock.run_for(app.io, milliseconds(10));
  REQUIRE(app.in_flight[App::member(2)] == 1);
  app.stop(mesh);  // bounded: it does not wait for the 5 s connects
  REQUIRE(app.cancelled_connects == 3);
  mesh.peer_up(App::peer(1));  // ignored after stop
  app.clock.run_for(app.io, seconds(6));
  REQUIRE(app.attempt_times.size() == 3);
}

TEST_CASE("mesh: connect and disconnect are required") {
  asio::io_context io;
  REQUIRE_THROWS_AS(PartialMesh<int>(io.get_executor(), {}), std::invalid_argument);
}
