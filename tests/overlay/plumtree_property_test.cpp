// SPDX-License-Identifier: Apache-2.0
// Random sequences of inputs, hostile ones included, never crash plumtree::Core nor break its
// invariants: eager and lazy peers are disjoint, together exactly the neighbours the caller
// declared, and every message is delivered at most once.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

#include "hypar/plumtree/codec.hpp"
#include "plumtree_harness.hpp"

using namespace hypar;
using namespace hypar::plumtree;
using namespace hypar::plumtree::testing;

namespace {

MessageId random_id(Rng& rng) { return mid(static_cast<int>(1 + rng.below(6)), rng.below(20)); }

Message random_message(Rng& rng) {
  switch (rng.below(5)) {
    case 0:
    case 1: {
      Gossip g{random_id(rng), static_cast<std::uint16_t>(rng.below(70000)), {}};
      g.payload.resize(rng.below(40));
      return g;
    }
    case 2: {
      IHave m;
      for (auto n = rng.below(5); n > 0; --n) m.entries.push_back({random_id(rng), static_cast<std::uint16_t>(rng.below(20))});
      return m;
    }
    case 3: {
      Graft g;
      if (rng.below(4) != 0) g.id = random_id(rng);
      g.hops = static_cast<std::uint16_t>(rng.below(20));
      return g;
    }
    default: return Prune{};
  }
}

// The core's own invariants (invariants.cpp), and that its neighbours are exactly the ones fed in.
void check_invariants(const Core& core, const std::set<Address>& neighbours) {
  const auto problems = core.check_invariants();
  INFO((problems.empty() ? std::string() : problems.front()));
  REQUIRE(problems.empty());
  const auto eager = core.eager_peers();
  const auto lazy = core.lazy_peers();
  std::set<Address> seen;
  for (const auto& p : eager) {
    REQUIRE(neighbours.contains(p));
    REQUIRE(seen.insert(p).second);
  }
  for (const auto& p : lazy) {
    REQUIRE(neighbours.contains(p));
    REQUIRE(seen.insert(p).second);  // fails if a peer is both eager and lazy
  }
  REQUIRE(seen == neighbours);
}

}  // namespace

TEST_CASE("plumtree: invariants hold under 40,000 random inputs") {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    Options o;
    o.max_payload_bytes = 32;
    o.payload_cache_ttl = seconds(2);
    o.seen_ttl = seconds(4);
    Harness h(o, 0, seed);
    Rng rng(seed * 7919);
    std::set<Address> neighbours;
    std::map<MessageId, Instant> delivered_at;
    for (int step = 0; step < 10000; ++step) {
      h.advance(milliseconds(static_cast<long>(rng.below(60))));
      const int p = static_cast<int>(1 + rng.below(8));
      switch (rng.below(12)) {
        case 0:
          h.up(p);
          neighbours.insert(addr(p));
          break;
        case 1:
          h.down(p);
          neighbours.erase(addr(p));
          break;
        case 2: h.broadcast(std::string(rng.below(40), 'x')); break;
        case 3: {  // a timer the core may or may not have scheduled
          const TimerKind kinds[] = {TimerKind::ihave_flush, TimerKind::graft, TimerKind::sweep};
          h.fire(Timer{kinds[rng.below(3)], random_id(rng), rng.below(30)});
          break;
        }
        case 4: h.fire_due(); break;
        default: h.receive(p, random_message(rng)); break;
      }
      check_invariants(h.core, neighbours);
      for (const auto& s : h.all<Send>()) REQUIRE(neighbours.contains(s.to));  // never talks to strangers
      for (const auto& d : h.delivered()) {
        REQUIRE(d.payload.size() <= o.max_payload_bytes);
        // At most once while the id is remembered (a copy after seen_ttl may be delivered again).
        auto [it, fresh] = delivered_at.try_emplace(d.id, h.now);
        if (!fresh) {
          REQUIRE(h.now - it->second >= o.seen_ttl);
          it->second = h.now;
        }
      }
      h.clear();
    }
    CHECK(h.core.stats().delivered > 100);
    CHECK(h.core.stats().grafts_sent > 0);
    CHECK(h.core.stats().prunes_sent > 0);
  }
}

TEST_CASE("plumtree: whatever bytes a peer sends, decoded or not, the core survives them") {
  Harness h;
  for (int p : {1, 2, 3}) h.up(p);
  h.broadcast("seed message");
  Rng rng(11);
  std::size_t fed = 0;
  for (int i = 0; i < 20000; ++i) {
    // Valid messages with a few bytes flipped, and raw bytes behind a Plumtree type byte.
    std::vector<std::uint8_t> wire;
    if (i % 2 == 0) {
      encode(random_message(rng), wire);
      for (auto n = rng.below(3); n > 0; --n) wire[rng.index(wire.size())] = static_cast<std::uint8_t>(rng.below(256));
    } else {
      wire.resize(1 + rng.below(48));
      for (auto& b : wire) b = static_cast<std::uint8_t>(rng.below(256));
      wire[0] = static_cast<std::uint8_t>(frame_type::kPlumtreeGossip + rng.below(4));
    }
    const auto decoded = decode(wire);
    if (!decoded) continue;  // an error value: the runtime closes the link; nothing reaches the core
    h.advance(milliseconds(static_cast<long>(rng.below(30))));
    h.receive(static_cast<int>(1 + rng.below(4)), decoded.message());
    h.fire_due();
    ++fed;
    check_invariants(h.core, {addr(1), addr(2), addr(3)});
    h.clear();
  }
  CHECK(fed > 5000);
}
