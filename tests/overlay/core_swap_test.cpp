// SPDX-License-Identifier: Apache-2.0
// Join swaps (Options::join_swaps) mend the two links they break: the swapping node drops a peer
// first and names it in its NEIGHBOR; the target, evicting a peer of its own to make room,
// introduces that peer to the dropped one (Disconnect::ask), which it asks first.
#include <catch2/catch.hpp>

#include <optional>

#include "core_harness.hpp"

using namespace hypar;
using namespace hypar::hyparview;
using namespace hypar::hyparview::testing;

namespace {

// A full view (peers 1, 20, 2, 3, 4) whose peer 20 came from a walk that ended early here (the
// join overlapped: we had one neighbour), so join swaps are armed; spares 11-13 passive.
void full_after_an_overlapping_join(Harness& h) {
  h.make_active(peer(1));
  h.receive(peer(1), ForwardJoin{peer(20), 3});  // ends here early: we have one neighbour
  h.link_up(peer(20));
  h.receive(peer(20), NeighborReply{true});
  for (int i = 2; i <= 4; ++i) h.make_active(peer(i));
  for (int j = 11; j <= 13; ++j) h.receive(peer(1), ForwardJoin{peer(j), h.core.options().prwl});
  REQUIRE(h.core.active_view().size() == 5);
  REQUIRE(h.active(peer(20)));
  REQUIRE(h.passive(peer(11)));
  h.clear();
}

std::optional<std::pair<Address, Neighbor>> the_one_neighbor_request(const Harness& h) {
  const auto requests = h.sent<Neighbor>();
  if (requests.size() != 1) return std::nullopt;
  return requests.front();
}

}  // namespace

TEST_CASE("a join swap drops the early-walk peer first, names it to a spare, and holds the slot for it") {
  Harness h;
  full_after_an_overlapping_join(h);
  h.advance(h.core.options().shuffle_period);
  h.fire({TimerKind::shuffle});

  CHECK(h.sent_to<Disconnect>(peer(20)) == std::vector<Disconnect>{Disconnect{true}});
  CHECK_FALSE(h.active(peer(20)));
  CHECK(h.passive(peer(20)));
  const auto request = the_one_neighbor_request(h);
  REQUIRE(request);
  CHECK((request->first == peer(11).address || request->first == peer(12).address ||
         request->first == peer(13).address));
  CHECK(request->second.priority == Priority::high);
  CHECK(request->second.dropping == peer(20));

  // The slot the swap freed is its target's: another node asking for room is refused meanwhile.
  h.clear();
  h.link_up(peer(30));
  h.receive(peer(30), Neighbor{Priority::low});
  CHECK(h.sent_to<NeighborReply>(peer(30)) == std::vector<NeighborReply>{{false}});

  // The target accepts: the view is full again without evicting anyone else.
  h.clear();
  PeerId target;
  for (int j = 11; j <= 13; ++j) {
    if (peer(j).address == request->first) target = peer(j);
  }
  h.link_up(target);
  h.receive(target, NeighborReply{true});
  CHECK(h.active(target));
  CHECK(h.core.active_view().size() == 5);
  CHECK(h.sent<Disconnect>().empty());
}

TEST_CASE("a full node accepting a join swap introduces the peer it evicts to the swapper's dropped peer") {
  Harness h;
  for (int i = 1; i <= 5; ++i) h.make_active(peer(i));
  h.clear();
  h.link_up(peer(40));
  h.receive(peer(40), Neighbor{Priority::high, peer(50)});
  CHECK(h.active(peer(40)));
  const auto evictions = h.sent<Disconnect>();
  REQUIRE(evictions.size() == 1);
  CHECK(evictions[0].second.alive);
  CHECK(evictions[0].second.ask == peer(50));

  // A plain high-priority request (a walk's end, an isolated node) introduces nobody.
  h.clear();
  h.link_up(peer(41));
  h.receive(peer(41), Neighbor{Priority::high});
  REQUIRE(h.sent<Disconnect>().size() == 1);
  CHECK_FALSE(h.sent<Disconnect>()[0].second.ask);
}

TEST_CASE("a node evicted with an introduction asks the introduced peer before any spare") {
  Harness h;
  for (int i = 1; i <= 5; ++i) h.make_active(peer(i));
  for (int j = 11; j <= 13; ++j) h.receive(peer(1), ForwardJoin{peer(j), h.core.options().prwl});
  h.clear();
  h.receive(peer(2), Disconnect{true, peer(60)});
  CHECK_FALSE(h.active(peer(2)));
  const auto request = the_one_neighbor_request(h);
  REQUIRE(request);
  CHECK(request->first == peer(60).address);
  CHECK(request->second.priority == Priority::low);  // one short: it asks for room
  CHECK(h.connected(peer(60)));

  // Only an eviction carries an introduction: the same from a node that was not a neighbour asks nobody.
  h.clear();
  h.link_up(peer(70));
  h.receive(peer(70), Disconnect{true, peer(61)});
  CHECK(h.sent_to<Neighbor>(peer(61)).empty());
}

TEST_CASE("with a join_swap_period the swaps tick on their own timer, not at the shuffle, until none is left") {
  Options options = quiet_options();
  options.join_swaps = 2;
  options.join_swap_period = seconds(2);
  Harness h(options);
  h.make_active(peer(1));
  h.receive(peer(1), ForwardJoin{peer(20), 3});  // ends here early: the swaps are armed
  const auto armed = h.timers(TimerKind::join_swap);
  REQUIRE(armed.size() == 1);
  CHECK(armed.front().at - h.now <= seconds(2) + seconds(2) / 10);  // the period, jittered
  h.link_up(peer(20));
  h.receive(peer(20), NeighborReply{true});
  for (int i = 2; i <= 4; ++i) h.make_active(peer(i));
  for (int j = 11; j <= 13; ++j) h.receive(peer(1), ForwardJoin{peer(j), h.core.options().prwl});
  REQUIRE(h.core.active_view().size() == 5);
  h.clear();

  // The shuffle no longer swaps.
  h.advance(options.shuffle_period);
  h.fire({TimerKind::shuffle});
  CHECK(h.sent<Disconnect>().empty());

  // The swap timer does, and re-arms while swaps are left.
  h.clear();
  h.fire({TimerKind::join_swap});
  CHECK(h.sent_to<Disconnect>(peer(20)) == std::vector<Disconnect>{Disconnect{true}});
  CHECK(h.timers(TimerKind::join_swap).size() == 1);
  const auto first = the_one_neighbor_request(h);
  REQUIRE(first);
  for (int j = 11; j <= 13; ++j) {
    if (peer(j).address == first->first) {
      h.link_up(peer(j));
      h.receive(peer(j), NeighborReply{true});
    }
  }
  REQUIRE(h.core.active_view().size() == 5);
  h.clear();
  h.fire({TimerKind::join_swap});  // the last swap: no timer after it
  CHECK(h.sent<Disconnect>().size() == 1);
  CHECK(h.timers(TimerKind::join_swap).empty());
}

TEST_CASE("a join swap tick that cannot swap (the view is not full) keeps the swap for a later tick") {
  Options options = quiet_options();
  options.join_swaps = 1;
  options.join_swap_period = seconds(2);
  Harness h(options);
  h.make_active(peer(1));
  h.receive(peer(1), ForwardJoin{peer(20), 3});  // ends here early: the swaps are armed
  h.link_up(peer(20));
  h.receive(peer(20), NeighborReply{true});
  for (int j = 11; j <= 13; ++j) h.receive(peer(1), ForwardJoin{peer(j), h.core.options().prwl});
  REQUIRE(h.core.active_view().size() == 2);
  h.clear();

  h.fire({TimerKind::join_swap});
  CHECK(h.sent<Disconnect>().empty());
  CHECK(h.timers(TimerKind::join_swap).size() == 1);  // the swap is still to come

  // Once the view is full, the next tick swaps, and it was the last.
  for (int i = 2; i <= 4; ++i) h.make_active(peer(i));
  REQUIRE(h.core.active_view().size() == 5);
  h.clear();
  h.fire({TimerKind::join_swap});
  CHECK(h.sent_to<Disconnect>(peer(20)) == std::vector<Disconnect>{Disconnect{true}});
  CHECK(h.timers(TimerKind::join_swap).empty());
}
