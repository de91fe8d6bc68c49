// SPDX-License-Identifier: Apache-2.0
// Random sequences of inputs, including hostile ones, never break the view invariants.
#include <catch2/catch.hpp>

#include "core_harness.hpp"

using namespace hypar;
using namespace hypar::hyparview;
using namespace hypar::hyparview::testing;

namespace {

Message random_message(Rng& rng, std::uint8_t arwl, const PeerId& self) {
  auto random_peer = [&]() -> PeerId {
    if (rng.below(20) == 0) return self;
    return peer(static_cast<int>(1 + rng.below(40)), 1 + rng.below(3));
  };
  auto random_peers = [&] {
    std::vector<PeerId> v;
    for (auto n = rng.below(10); n > 0; --n) v.push_back(random_peer());
    return v;
  };
  switch (rng.below(8)) {
    case 0: return Join{};
    case 1: return ForwardJoin{random_peer(), static_cast<std::uint8_t>(rng.below(arwl + 3u))};
    case 2: return Neighbor{rng.below(2) ? Priority::high : Priority::low};
    case 3: return NeighborReply{rng.below(2) == 1};
    case 4: return Disconnect{rng.below(2) == 1};
    case 5: return Shuffle{random_peer(), static_cast<std::uint8_t>(rng.below(8)), static_cast<std::uint32_t>(rng.below(4)), random_peers()};
    case 6: return ShuffleReply{static_cast<std::uint32_t>(rng.below(6)), random_peers()};
    default: return Keepalive{};
  }
}

}  // namespace

TEST_CASE("view invariants hold under 20,000 random inputs") {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    Options o = quiet_options();
    o.active_size = 4;
    o.passive_size = 8;
    Harness h(o, 0, seed);
    Rng rng(seed * 977);
    h.join({peer(1).address});
    for (int step = 0; step < 5000; ++step) {
      h.advance(milliseconds(static_cast<long>(rng.below(400))));
      const PeerId p = peer(static_cast<int>(1 + rng.below(40)), 1 + rng.below(3));
      switch (rng.below(10)) {
        case 0: h.link_up(p); break;
        case 1: h.link_down(p); break;
        case 2: h.connect_failed(p); break;
        case 3: {
          const TimerKind kinds[] = {TimerKind::shuffle, TimerKind::keepalive, TimerKind::rejoin,
                                     TimerKind::neighbor_timeout, TimerKind::fill_active, TimerKind::sweep};
          h.fire(Timer{kinds[rng.below(6)], p.address, rng.below(50)});
          break;
        }
        default: h.receive(p, random_message(rng, o.arwl, h.core.self())); break;
      }
      check_invariants(h.core);
      h.clear();
    }
  }
}
