// SPDX-License-Identifier: Apache-2.0
// SHUFFLE walks, SHUFFLE_REPLY, and how samples are merged into the passive view.
#include <catch2/catch.hpp>

#include <set>

#include "core_harness.hpp"

using namespace hypar;
using namespace hypar::hyparview;
using namespace hypar::hyparview::testing;

namespace {

void with_views(Harness& h, int active, int passive) {
  for (int i = 1; i <= active; ++i) h.make_active(peer(i));
  for (int j = 1; j <= passive; ++j) h.receive(peer(1), ForwardJoin{peer(100 + j), h.core.options().prwl});
  h.clear();
}

std::vector<PeerId> peers_from(int first, int count) {
  std::vector<PeerId> out;
  for (int i = first; i < first + count; ++i) out.push_back(peer(i));
  return out;
}

}  // namespace

TEST_CASE("the shuffle timer sends a sample of both views to a random active peer") {
  Harness h;
  with_views(h, 5, 10);
  const auto shuffle_timer = Timer{TimerKind::shuffle};
  h.now += h.core.options().shuffle_period;
  h.fire(shuffle_timer);
  const auto shuffles = h.sent<Shuffle>();
  REQUIRE(shuffles.size() == 1);
  const auto& [target, s] = shuffles[0];
  REQUIRE(h.core.is_active(target));
  REQUIRE(s.origin == h.core.self());
  REQUIRE(s.ttl == h.core.options().arwl);
  REQUIRE(s.peers.size() == 3 + 4);  // k_active + k_passive
  std::set<Address> distinct;
  for (std::size_t i = 0; i < s.peers.size(); ++i) {
    distinct.insert(s.peers[i].address);
    REQUIRE(s.peers[i].address != target);  // the target is not told about itself
    if (i < 3) REQUIRE(h.core.is_active(s.peers[i].address));
    else REQUIRE(h.core.is_passive(s.peers[i].address));
  }
  REQUIRE(distinct.size() == s.peers.size());
  // The next shuffle is scheduled one period later.
  const auto next = h.timers(TimerKind::shuffle);
  REQUIRE(next.size() == 1);
  REQUIRE(next[0].at == h.now + h.core.options().shuffle_period);
}

TEST_CASE("the shuffle timer with an empty active view sends nothing but keeps ticking") {
  Harness h;
  h.fire(Timer{TimerKind::shuffle});
  REQUIRE(h.sent<Shuffle>().empty());
  REQUIRE(h.timers(TimerKind::shuffle).size() == 1);
}

TEST_CASE("a SHUFFLE with TTL left is forwarded to another active peer, not back") {
  Harness h;
  with_views(h, 3, 0);
  const Shuffle s{peer(50), 4, 7, peers_from(60, 3)};
  h.receive(peer(1), s);
  const auto fwd = h.sent<Shuffle>();
  REQUIRE(fwd.size() == 1);
  REQUIRE(fwd[0].first != peer(1).address);
  REQUIRE(fwd[0].second.ttl == 3);
  REQUIRE(fwd[0].second.peers == s.peers);
  REQUIRE(fwd[0].second.id == 7);
  REQUIRE(h.core.passive_view().empty());  // only the node where the walk ends merges
}

TEST_CASE("a SHUFFLE whose walk ends replies to the origin over a temporary link and merges") {
  Harness h;
  with_views(h, 2, 5);
  const PeerId origin = peer(50);
  const Shuffle s{origin, 1, 9, peers_from(60, 3)};
  h.receive(peer(1), s);
  REQUIRE(h.sent<Shuffle>().empty());
  REQUIRE(h.connected(origin));
  const auto replies = h.sent_to<ShuffleReply>(origin);
  REQUIRE(replies.size() == 1);
  REQUIRE(replies[0].id == 9);
  REQUIRE(replies[0].peers.size() == 3);  // as many as it received
  REQUIRE(h.closed(origin));              // closed once the reply is flushed
  for (int i = 60; i < 63; ++i) REQUIRE(h.passive(peer(i)));
  REQUIRE(h.passive(origin));
}

TEST_CASE("a SHUFFLE ends at a node with a single active peer even with TTL left") {
  Harness h;
  with_views(h, 1, 0);
  h.receive(peer(1), Shuffle{peer(50), 5, 1, peers_from(60, 2)});
  REQUIRE(h.sent<Shuffle>().empty());
  REQUIRE(h.sent_to<ShuffleReply>(peer(50)).size() == 1);
}

TEST_CASE("a SHUFFLE from an active origin is answered on the existing link") {
  Harness h;
  with_views(h, 2, 2);
  h.receive(peer(2), Shuffle{peer(1), 1, 3, peers_from(60, 2)});
  REQUIRE(h.sent_to<ShuffleReply>(peer(1)).size() == 1);
  REQUIRE_FALSE(h.closed(peer(1)));
  REQUIRE(h.all<Connect>().empty());
  REQUIRE(h.active(peer(1)));
}

TEST_CASE("merging skips ourselves, active peers and duplicates") {
  Harness h;
  with_views(h, 2, 0);
  std::vector<PeerId> sample{h.core.self(), peer(1), peer(70), peer(70), peer(71)};
  h.receive(peer(2), Shuffle{peer(50), 1, 1, sample});
  REQUIRE_FALSE(h.core.is_passive(h.core.self().address));
  REQUIRE_FALSE(h.passive(peer(1)));
  REQUIRE(h.active(peer(1)));
  const auto& passive = h.core.passive_view();
  REQUIRE(std::count_if(passive.begin(), passive.end(), [](const PeerId& p) { return p == peer(70); }) == 1);
  REQUIRE(h.passive(peer(71)));
}

TEST_CASE("our own SHUFFLE coming back is ignored") {
  Harness h;
  with_views(h, 2, 0);
  h.receive(peer(1), Shuffle{h.core.self(), 3, 1, peers_from(60, 2)});
  REQUIRE(h.out.empty());
}

TEST_CASE("a full passive view evicts the peers it sent first when merging a reply") {
  Options o = quiet_options();
  o.active_size = 2;  // a full active view: the shuffle timer asks no passive peer to be promoted
  o.passive_size = 6;
  o.k_active = 1;
  o.k_passive = 3;
  Harness h(o);
  with_views(h, 2, 6);
  REQUIRE(h.core.passive_view().size() == 6);
  h.fire(Timer{TimerKind::shuffle});
  REQUIRE(h.core.pending_requests() == 0);
  const auto s = h.sent<Shuffle>();
  REQUIRE(s.size() == 1);
  std::vector<PeerId> sent_passive;
  for (const auto& p : s[0].second.peers) {
    if (h.core.is_passive(p.address)) sent_passive.push_back(p);
  }
  REQUIRE(sent_passive.size() == 3);

  const PeerId replier = peer(80);
  h.link_up(replier);
  h.receive(replier, ShuffleReply{s[0].second.id, peers_from(90, 3)});
  REQUIRE(h.core.passive_view().size() == 6);
  for (int i = 90; i < 93; ++i) REQUIRE(h.passive(peer(i)));
  for (const auto& p : sent_passive) REQUIRE_FALSE(h.passive(p));  // exactly those made room
  REQUIRE(h.closed(replier));  // the temporary link is not kept
}

TEST_CASE("a SHUFFLE_REPLY with an unknown id is ignored") {
  Harness h;
  with_views(h, 2, 0);
  h.link_up(peer(80));
  h.receive(peer(80), ShuffleReply{12345, peers_from(90, 3)});
  REQUIRE(h.core.passive_view().empty());
}

TEST_CASE("a SHUFFLE_REPLY is accepted once only") {
  Harness h;
  with_views(h, 2, 0);
  h.fire(Timer{TimerKind::shuffle});
  const auto id = h.sent<Shuffle>().at(0).second.id;
  h.link_up(peer(80));
  h.receive(peer(80), ShuffleReply{id, peers_from(90, 1)});
  REQUIRE(h.passive(peer(90)));
  h.link_up(peer(81));
  h.receive(peer(81), ShuffleReply{id, peers_from(95, 1)});
  REQUIRE_FALSE(h.passive(peer(95)));
}

TEST_CASE("a newer incarnation replaces the passive entry; an older one is ignored") {
  Harness h;
  with_views(h, 2, 0);
  h.receive(peer(2), Shuffle{peer(50), 1, 1, {peer(70, 5)}});
  REQUIRE(h.core.passive_view().size() == 2);  // peer 70 and the origin
  h.receive(peer(2), Shuffle{peer(50), 1, 2, {peer(70, 4)}});
  auto find70 = [&] {
    for (const auto& p : h.core.passive_view()) {
      if (p.address == peer(70).address) return p.incarnation;
    }
    return std::uint64_t{0};
  };
  REQUIRE(find70() == 5);
  h.receive(peer(2), Shuffle{peer(50), 1, 3, {peer(70, 6)}});
  REQUIRE(find70() == 6);
  REQUIRE(h.core.passive_view().size() == 2);
}
