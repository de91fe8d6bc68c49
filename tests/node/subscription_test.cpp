// SPDX-License-Identifier: Apache-2.0
// Membership subscriptions (Node::subscribe) on the in-memory network, in virtual time: order,
// independence of subscribers, a subscriber that never reads (Lagged, exact count, snapshot),
// a late subscriber's initial view, close / destroy, and the node stopping.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "hypar/hyparview/down_reason.hpp"
#include "mem_cluster.hpp"

using namespace hypar;
using namespace hypar::testing;

namespace {

// One event as text, every field included (the peer's full id, its metadata, the reason).
std::string describe_event(const MembershipEvent& event) {
  if (const auto* up = std::get_if<LinkUp>(&event)) {
    std::string s = "up " + up->peer.to_string();
    for (const auto& [key, value] : up->metadata) s += " " + key + "=" + value;
    return s;
  }
  if (const auto* down = std::get_if<LinkDown>(&event)) {
    return "down " + down->peer.to_string() + " " + hyparview::reason_name(down->reason);
  }
  const auto& lagged = std::get<Lagged>(event);
  return "lagged " + std::to_string(lagged.missed) + " " + std::to_string(lagged.view_size);
}

// The membership events of a node's own event stream, in the same text.
std::vector<std::string> membership_of(const EventLog& log) {
  std::vector<std::string> out;
  for (const Event& e : log.events) {
    if (const auto* up = std::get_if<LinkUp>(&e)) out.push_back(describe_event(*up));
    if (const auto* down = std::get_if<LinkDown>(&e)) out.push_back(describe_event(*down));
  }
  return out;
}

// Reads a subscription until next() returns nullopt.
struct Reader {
  std::vector<MembershipEvent> events;
  bool ended = false;
  std::vector<std::string> text() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(describe_event(e));
    return out;
  }
};

asio::awaitable<void> read_all(MembershipSubscription* subscription, std::shared_ptr<Reader> reader) {
  while (std::optional<MembershipEvent> e = co_await subscription->next()) reader->events.push_back(std::move(*e));
  reader->ended = true;
}

std::shared_ptr<Reader> start_reader(asio::io_context& io, MembershipSubscription& subscription) {
  auto reader = std::make_shared<Reader>();
  asio::co_spawn(io, read_all(&subscription, reader), asio::detached);
  return reader;
}

// The active view a subscriber knows after applying `events` in order to an empty set.
std::set<Address> replay(const std::vector<MembershipEvent>& events) {
  std::set<Address> view;
  for (const auto& e : events) {
    if (const auto* up = std::get_if<LinkUp>(&e)) view.insert(up->peer.address);
    if (const auto* down = std::get_if<LinkDown>(&e)) view.erase(down->peer.address);
    if (std::holds_alternative<Lagged>(e)) view.clear();  // the whole view follows
  }
  return view;
}

std::set<Address> addresses(const std::vector<PeerId>& peers) {
  std::set<Address> out;
  for (const auto& p : peers) out.insert(p.address);
  return out;
}

std::vector<MembershipEvent> drain(MembershipSubscription& subscription) {
  std::vector<MembershipEvent> out;
  while (auto e = subscription.poll()) out.push_back(std::move(*e));
  return out;
}

// A cluster whose node 0 sees many membership changes: nine nodes join through it (its active
// view fills, then evictions), three of its neighbours crash, the overlay repairs. Every node
// advertises its name in metadata.
struct Churn {
  MemCluster c{milliseconds(1), /*fast=*/true};
  Churn() {
    for (int i = 0; i < 10; ++i) {
      NodeConfig config = c.config("n" + std::to_string(i));
      config.metadata = {{"app", "10.0.1." + std::to_string(i) + ":9000"}};
      c.add(config);
    }
  }
  Node& a() { return *c.nodes[0]; }
  // Runs the churn; `step` runs between scheduler steps.
  void run(const std::function<void()>& step = [] {}) {
    const auto stepping = [&](const std::function<bool()>& done) {
      return [&, done] {
        step();
        return done();
      };
    };
    REQUIRE(c.join_all_through(0));
    REQUIRE(c.run_until(stepping([&] { return c.healthy(c.all()); }), seconds(20)));
    std::set<std::size_t> live = c.all();
    std::size_t killed = 0;
    for (const auto& p : a().peers()) {
      for (std::size_t i = 1; i < c.nodes.size() && killed < 3; ++i) {
        if (c.addr(i) == p.address && live.count(i)) {
          c.net->kill(c.addr(i));
          live.erase(i);
          ++killed;
        }
      }
    }
    REQUIRE(killed == 3);
    REQUIRE(c.run_until(stepping([&] { return c.healthy(live) && a().peers().size() >= 3; }), seconds(60)));
    c.run_for(seconds(2));  // quiet: nothing in flight
  }
};

}  // namespace

TEST_CASE("subscribe: subscribers see every LinkUp / LinkDown in the node's order, independently") {
  Churn churn;
  auto log = std::make_shared<EventLog>();
  collect_events(churn.c.io, churn.a(), log);
  MembershipSubscription first = churn.a().subscribe();
  MembershipSubscription second = churn.a().subscribe(64);
  REQUIRE(first.capacity() == kDefaultSubscriptionCapacity);
  REQUIRE(second.capacity() == 64);
  auto r1 = start_reader(churn.c.io, first);
  auto r2 = start_reader(churn.c.io, second);
  churn.run();

  const std::vector<std::string> expected = membership_of(*log);
  REQUIRE(expected.size() >= 10);  // joins, evictions, crashes, repairs
  REQUIRE(std::count_if(expected.begin(), expected.end(), [](const auto& s) { return s.starts_with("down"); }) >= 3);
  REQUIRE(expected[0].find(" app=10.0.1.") != std::string::npos);  // metadata comes with the LinkUp
  // Event for event, fields included, the same as the node's own stream; each subscriber alone.
  REQUIRE(r1->text() == expected);
  REQUIRE(r2->text() == expected);
  REQUIRE(replay(r1->events) == addresses(churn.a().peers()));
  REQUIRE(churn.a().metrics().counters.subscriber_lags == 0);
  REQUIRE(churn.a().metrics().membership_subscribers == 2);
}

TEST_CASE("subscribe: a late subscriber starts with the active view as LinkUps with metadata") {
  Churn churn;
  churn.run();
  Node& a = churn.a();
  MembershipSubscription late = a.subscribe();
  const std::vector<MembershipEvent> start = drain(late);
  const std::vector<PeerId> peers = a.peers();
  REQUIRE(peers.size() >= 3);
  REQUIRE(start.size() == peers.size());
  for (const auto& e : start) {
    const auto* up = std::get_if<LinkUp>(&e);
    REQUIRE(up != nullptr);
    REQUIRE(std::find(peers.begin(), peers.end(), up->peer) != peers.end());  // the full id, incarnation too
    REQUIRE(up->metadata == a.metadata_of(up->peer.address));
    REQUIRE(up->metadata.at("app").starts_with("10.0.1."));
  }
  REQUIRE(replay(start) == addresses(peers));
  // Then live events: a neighbour crashes.
  churn.c.net->kill(peers[0].address);
  REQUIRE(churn.c.run_until([&] { return late.pending() > 0; }, seconds(20)));
  const auto next = late.poll();
  REQUIRE(next);
  REQUIRE(std::get<LinkDown>(*next).peer == peers[0]);
}

TEST_CASE("subscribe: a subscriber that never reads gets Lagged with the exact count, then the active view") {
  Churn churn;
  Node& a = churn.a();
  auto log = std::make_shared<EventLog>();
  collect_events(churn.c.io, a, log);
  MembershipSubscription lazy = a.subscribe(1);  // raised to active_size + 2
  const std::size_t capacity = NodeConfig{}.options.active_size + 2;
  REQUIRE(lazy.capacity() == capacity);
  MembershipSubscription reading = a.subscribe(capacity);  // as small, but read
  auto reader = start_reader(churn.c.io, reading);
  std::size_t most_pending = 0;
  churn.run([&] { most_pending = std::max(most_pending, lazy.pending()); });

  const std::vector<std::string> expected = membership_of(*log);
  const std::uint64_t node_events = expected.size();
  REQUIRE(node_events > 2 * capacity);  // it overflowed more than once: counts carry over
  REQUIRE(most_pending <= capacity);    // bounded all along
  const NodeMetrics metrics = a.metrics();
  REQUIRE(metrics.counters.subscriber_lags >= 2);
  REQUIRE(metrics.membership_subscribers == 2);
  prom::Families families;
  write_prometheus(families, metrics);
  const std::string text = families.render();
  REQUIRE(text.find("\nhypar_subscriber_lags_total " + std::to_string(metrics.counters.subscriber_lags) + "\n") !=
          std::string::npos);
  REQUIRE(text.find("\nhypar_membership_subscribers 2\n") != std::string::npos);
  JsonWriter json;
  write_json(json, metrics);
  REQUIRE(json.str().find("\"membership_subscribers\":2") != std::string::npos);
  REQUIRE(json.str().find("\"subscriber_lags\":" + std::to_string(metrics.counters.subscriber_lags)) !=
          std::string::npos);

  // The node and the other readers were not held back: they saw everything, in order.
  REQUIRE(reader->text() == expected);
  REQUIRE(replay(reader->events) == addresses(a.peers()));

  // The lazy one: Lagged{missed, view_size}, view_size LinkUps, then the live events since.
  const std::vector<MembershipEvent> got = drain(lazy);
  REQUIRE_FALSE(got.empty());
  const auto* lagged = std::get_if<Lagged>(&got[0]);
  REQUIRE(lagged != nullptr);
  REQUIRE(got.size() >= 1 + lagged->view_size);
  for (std::size_t i = 1; i <= lagged->view_size; ++i) REQUIRE(std::holds_alternative<LinkUp>(got[i]));
  const std::size_t live = got.size() - 1 - lagged->view_size;
  for (std::size_t i = 1 + lagged->view_size; i < got.size(); ++i) REQUIRE_FALSE(std::holds_alternative<Lagged>(got[i]));
  // Missed plus received live events: every membership event of the node, none counted twice.
  REQUIRE(lagged->missed + live == node_events);
  // The live events it holds are the node's last ones, in order.
  std::vector<std::string> tail;
  for (std::size_t i = 1 + lagged->view_size; i < got.size(); ++i) tail.push_back(describe_event(got[i]));
  REQUIRE(std::equal(tail.begin(), tail.end(), expected.end() - static_cast<std::ptrdiff_t>(live)));
  // The snapshot is the node's active view when it lagged last: its events up to that point.
  std::vector<MembershipEvent> until_lag;
  for (const Event& e : log->events) {
    if (const auto* up = std::get_if<LinkUp>(&e)) until_lag.push_back(*up);
    if (const auto* down = std::get_if<LinkDown>(&e)) until_lag.push_back(*down);
  }
  until_lag.resize(node_events - live);
  const std::vector<MembershipEvent> snapshot(got.begin() + 1, got.begin() + 1 + static_cast<std::ptrdiff_t>(lagged->view_size));
  REQUIRE(replay(snapshot) == replay(until_lag));
  REQUIRE(snapshot.size() == replay(until_lag).size());
  for (const auto& e : snapshot) REQUIRE(std::get<LinkUp>(e).metadata.at("app").starts_with("10.0.1."));
  // Snapshot plus what followed is the node's active view.
  REQUIRE(replay(got) == addresses(a.peers()));

  // Read from now on, it follows the live events again.
  auto resumed = start_reader(churn.c.io, lazy);
  const PeerId victim = a.peers()[0];
  churn.c.net->kill(victim.address);
  REQUIRE(churn.c.run_until([&] { return !resumed->events.empty(); }, seconds(20)));
  REQUIRE(std::get<LinkDown>(resumed->events[0]).peer == victim);
}

TEST_CASE("subscribe: close and destruction unregister; a waiting next() ends with nullopt") {
  MemCluster c(milliseconds(1), /*fast=*/true);
  Node& a = c.add("a");
  Node& b = c.add("b");
  MembershipSubscription closed_while_waiting = a.subscribe();
  auto waiting = start_reader(c.io, closed_while_waiting);
  std::optional<MembershipSubscription> destroyed{a.subscribe()};
  MembershipSubscription replaced = a.subscribe();
  REQUIRE(a.metrics().membership_subscribers == 3);

  c.run_for(milliseconds(10));
  REQUIRE_FALSE(waiting->ended);  // nothing happened yet: it waits
  closed_while_waiting.close();
  c.run_for(milliseconds(0));
  REQUIRE(waiting->ended);
  REQUIRE(waiting->events.empty());
  REQUIRE_FALSE(closed_while_waiting.is_open());
  REQUIRE(closed_while_waiting.capacity() == 0);
  closed_while_waiting.close();  // idempotent
  REQUIRE(a.metrics().membership_subscribers == 2);

  destroyed.reset();
  REQUIRE(a.metrics().membership_subscribers == 1);
  replaced = MembershipSubscription{};  // move-assigning closes the old one
  REQUIRE(a.metrics().membership_subscribers == 0);
  REQUIRE_FALSE(replaced.is_open());

  // A closed subscription takes nothing more, and next() returns at once.
  REQUIRE(c.join_all_through(1));
  REQUIRE(c.run_until([&] { return has_peer(a, b.id().address); }, seconds(5)));
  REQUIRE(closed_while_waiting.pending() == 0);
  REQUIRE_FALSE(closed_while_waiting.poll());
  auto after_close = start_reader(c.io, closed_while_waiting);
  c.run_for(milliseconds(0));
  REQUIRE(after_close->ended);
  REQUIRE(after_close->events.empty());
}

TEST_CASE("subscribe: leave() delivers the goodbye LinkDowns, then next() returns nullopt") {
  MemCluster c(milliseconds(1), /*fast=*/true);
  Node& a = c.add("a");
  for (int i = 0; i < 3; ++i) c.add("m" + std::to_string(i));
  MembershipSubscription members = a.subscribe();
  auto reader = start_reader(c.io, members);
  REQUIRE(c.join_all_through(0));
  REQUIRE(c.run_until([&] { return a.peers().size() == 3; }, seconds(5)));
  bool left = false;
  asio::co_spawn(c.io, a.leave(), [&](std::exception_ptr) { left = true; });
  REQUIRE(c.run_until([&] { return left && reader->ended; }, seconds(5)));
  REQUIRE(replay(reader->events).empty());  // every up was followed by its down
  REQUIRE(reader->events.size() >= 6);
  REQUIRE_FALSE(members.is_open());
  // Subscribing to a stopped node gives an ended subscription.
  MembershipSubscription too_late = a.subscribe();
  auto late_reader = start_reader(c.io, too_late);
  c.run_for(milliseconds(0));
  REQUIRE(late_reader->ended);
  REQUIRE(late_reader->events.empty());
}

TEST_CASE("subscribe: destroying the node ends a waiting next() with nullopt") {
  MemCluster c(milliseconds(1), /*fast=*/true);
  c.add("a");
  MembershipSubscription members = c.nodes[0]->subscribe();
  auto reader = start_reader(c.io, members);
  c.run_for(milliseconds(10));
  REQUIRE_FALSE(reader->ended);
  c.nodes.clear();
  c.run_for(milliseconds(0));
  REQUIRE(reader->ended);
  members.close();  // after the node: harmless
}
