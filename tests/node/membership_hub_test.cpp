// SPDX-License-Identifier: Apache-2.0
// The node's membership hub (overlay/node/src/membership_hub.hpp) fed directly: exact Lagged
// counts when a subscriber overflows once, twice before reading, and in the middle of reading a
// snapshot; the snapshot is the active view as published; the buffer never exceeds its bound; the
// mirror is taken from the owner's view when the first subscriber arrives.
#include <catch2/catch.hpp>

#include "../../overlay/node/src/membership_hub.hpp"

using namespace hypar;

namespace {

PeerId peer(int i) { return {Address::v4(10, 0, 0, static_cast<std::uint8_t>(i), 7000), "p" + std::to_string(i), 1}; }
LinkUp up(int i) { return {peer(i), {{"app", "svc" + std::to_string(i)}}}; }
LinkDown down(int i) { return {peer(i), DownReason::failed}; }

std::vector<MembershipEvent> drain(MembershipSubscription& s) {
  std::vector<MembershipEvent> out;
  while (auto e = s.poll()) out.push_back(std::move(*e));
  return out;
}

std::vector<Address> ups(const std::vector<MembershipEvent>& events, std::size_t from, std::size_t count) {
  std::vector<Address> out;
  for (std::size_t i = from; i < from + count; ++i) out.push_back(std::get<LinkUp>(events.at(i)).peer.address);
  return out;
}

// The hub and its owner's active view (in a node, the core's), which the owner keeps in step with
// what it publishes.
struct Hub {
  std::vector<LinkUp> active;
  std::shared_ptr<MembershipHub> hub = std::make_shared<MembershipHub>("test", [this] { return active; });

  std::size_t publish(const LinkUp& u) {
    active.push_back(u);
    return hub->publish(u);
  }
  std::size_t publish(const LinkDown& d) {
    std::erase_if(active, [&](const LinkUp& u) { return u.peer == d.peer; });
    return hub->publish(d);
  }
};

}  // namespace

TEST_CASE("membership hub: an overflow replaces the buffer by Lagged{missed, view_size} and the view") {
  Hub h;
  MembershipSubscription s = h.hub->subscribe(4, 4);
  h.publish(up(1));
  h.publish(up(2));
  h.publish(up(3));
  h.publish(down(2));
  REQUIRE(s.pending() == 4);  // full
  REQUIRE(h.publish(up(4)) == 1);  // lagged
  REQUIRE(s.pending() == 4);  // Lagged + the view {1, 3, 4}
  const auto got = drain(s);
  REQUIRE(got.size() == 4);
  REQUIRE(std::get<Lagged>(got[0]).missed == 5);
  REQUIRE(std::get<Lagged>(got[0]).view_size == 3);
  REQUIRE(ups(got, 1, 3) == std::vector<Address>{peer(1).address, peer(3).address, peer(4).address});
  REQUIRE(std::get<LinkUp>(got[1]).metadata.at("app") == "svc1");  // with metadata
  // Then live events again.
  h.publish(down(1));
  REQUIRE(std::get<LinkDown>(*s.poll()).peer == peer(1));
}

TEST_CASE("membership hub: a second overflow before the Lagged is read adds to its count") {
  Hub h;
  h.publish(up(5));
  h.publish(up(6));
  MembershipSubscription u = h.hub->subscribe(5, 5);  // starts with the view: 2 snapshot entries
  MembershipSubscription v = h.hub->subscribe(5, 5);  // the same, read after the first overflow
  REQUIRE(u.pending() == 2);
  h.publish(up(7));
  h.publish(up(8));
  h.publish(up(9));    // full: 2 snapshot entries + 3 live events
  h.publish(down(7));  // overflow: 3 live + this one lost (the snapshot is not counted)
  REQUIRE(u.pending() == 5);  // Lagged + {5, 6, 8, 9}
  const auto first = drain(v);
  REQUIRE(std::get<Lagged>(first[0]).missed == 4);
  REQUIRE(std::get<Lagged>(first[0]).view_size == 4);
  h.publish(down(8));  // overflow again before u read anything: 4 carried over + 1
  const auto got = drain(u);
  REQUIRE(got.size() == 4);
  REQUIRE(std::get<Lagged>(got[0]).missed == 5);
  REQUIRE(std::get<Lagged>(got[0]).view_size == 3);
  REQUIRE(ups(got, 1, 3) == std::vector<Address>{peer(5).address, peer(6).address, peer(9).address});
}

TEST_CASE("membership hub: after the Lagged was taken, the next overflow counts only new losses") {
  Hub h;
  MembershipSubscription s = h.hub->subscribe(4, 4);
  for (int i = 1; i <= 5; ++i) h.publish(up(i));  // overflow: Lagged{5, 5} + 5 ups
  REQUIRE(std::get<Lagged>(*s.poll()).missed == 5);
  (void)s.poll();  // one snapshot entry read, four left
  h.publish(down(5));  // overflow: the snapshot entries are not events; only this one is lost
  const auto got = drain(s);
  REQUIRE(std::get<Lagged>(got[0]).missed == 1);
  REQUIRE(std::get<Lagged>(got[0]).view_size == 4);
  REQUIRE(got.size() == 5);
}

TEST_CASE("membership hub: independent buffers, close unregisters, stop drains then ends") {
  Hub h;
  MembershipSubscription fast = h.hub->subscribe(8, 8);
  MembershipSubscription slow = h.hub->subscribe(4, 4);
  REQUIRE(h.hub->subscribers() == 2);
  for (int i = 1; i <= 6; ++i) {
    h.publish(up(i));
    REQUIRE(std::get<LinkUp>(*fast.poll()).peer == peer(i));  // fast never lags
  }
  REQUIRE(std::holds_alternative<Lagged>(*slow.poll()));
  slow.close();
  REQUIRE(h.hub->subscribers() == 1);
  h.publish(down(1));
  REQUIRE(slow.pending() == 0);
  h.publish(down(2));
  h.hub->stop();
  REQUIRE(h.hub->subscribers() == 0);
  REQUIRE_FALSE(fast.is_open());
  REQUIRE(fast.pending() == 2);  // what was published before the stop still drains
  REQUIRE(std::get<LinkDown>(*fast.poll()).peer == peer(1));
  REQUIRE(std::get<LinkDown>(*fast.poll()).peer == peer(2));
  REQUIRE_FALSE(fast.poll());
}

TEST_CASE("membership hub: without subscribers nothing is mirrored; the first subscriber starts from the owner's view") {
  Hub h;
  h.hub->publish(up(1));  // nobody listens: not mirrored
  h.active = {up(2), up(3)};  // what the owner reports as its view is what a newcomer gets
  MembershipSubscription s = h.hub->subscribe(8, 8);
  REQUIRE(ups(drain(s), 0, 2) == std::vector<Address>{peer(2).address, peer(3).address});
  h.publish(up(4));  // live events update the mirror while someone subscribes
  REQUIRE(std::get<LinkUp>(*s.poll()).peer == peer(4));
  MembershipSubscription t = h.hub->subscribe(8, 8);
  h.active.clear();  // a second subscriber gets the mirror, not the owner's view
  REQUIRE(ups(drain(t), 0, 3) == std::vector<Address>{peer(2).address, peer(3).address, peer(4).address});
  s.close();
  t.close();
  h.active = {up(5)};  // the last one left: the next first subscriber asks the owner again
  MembershipSubscription u = h.hub->subscribe(8, 8);
  const auto got = drain(u);
  REQUIRE(got.size() == 1);
  REQUIRE(std::get<LinkUp>(got[0]).peer == peer(5));
}
