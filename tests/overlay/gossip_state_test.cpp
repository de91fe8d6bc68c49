// SPDX-License-Identifier: Apache-2.0
// gossip::State: HyParView's view changes make Plumtree neighbours, wire bytes become inputs, and
// bytes that do not decode change nothing.
#include <catch2/catch.hpp>

#include "hypar/gossip/state.hpp"

using namespace hypar;

namespace {

PeerId peer(int i) { return PeerId{Address::v4(127, 0, 3, static_cast<std::uint8_t>(i), 7000), "p", 1}; }

std::vector<plumtree::Output> drain(gossip::State& state) {
  std::vector<plumtree::Output> out;
  state.take_outputs(out);
  return out;
}

}  // namespace

TEST_CASE("gossip::State: PeerUp and PeerDown make and unmake Plumtree neighbours; other outputs do not") {
  gossip::State state(peer(0).address, plumtree::Options{}, 7);
  const Instant now{};
  CHECK(state.membership(hyparview::PeerUp{peer(1)}, now));
  CHECK(state.plumtree().is_eager(peer(1).address));
  CHECK_FALSE(state.membership(hyparview::Connect{peer(2).address}, now));
  CHECK_FALSE(state.membership(hyparview::JoinSucceeded{peer(2)}, now));
  CHECK_FALSE(state.plumtree().is_neighbor(peer(2).address));
  CHECK(state.membership(hyparview::PeerDown{peer(1), hyparview::DownReason::failed}, now));
  CHECK_FALSE(state.plumtree().is_neighbor(peer(1).address));
}

TEST_CASE("gossip::State: a GOSSIP off the wire is delivered and pushed on; garbage is counted and ignored") {
  gossip::State state(peer(0).address, plumtree::Options{}, 7);
  const Instant now{};
  state.membership(hyparview::PeerUp{peer(1)}, now);
  state.membership(hyparview::PeerUp{peer(2)}, now);
  (void)drain(state);

  std::vector<std::uint8_t> bytes;
  plumtree::encode(plumtree::Gossip{{peer(1).address, 5}, 0, {1, 2, 3}}, bytes);
  const auto decoded = state.received(peer(1).address, bytes, now);
  REQUIRE(decoded.ok());
  CHECK(std::holds_alternative<plumtree::Gossip>(decoded.message()));
  const auto out = drain(state);
  std::size_t delivered = 0;
  std::size_t pushed_to_2 = 0;
  for (const auto& o : out) {
    if (std::holds_alternative<plumtree::Deliver>(o)) ++delivered;
    if (const auto* s = std::get_if<plumtree::Send>(&o); s && s->to == peer(2).address) ++pushed_to_2;
  }
  CHECK(delivered == 1);
  CHECK(pushed_to_2 == 1);

  const std::vector<std::uint8_t> garbage{0x20, 0xff};
  CHECK_FALSE(state.received(peer(1).address, garbage, now).ok());
  CHECK(state.decode_errors() == 1);
  CHECK(drain(state).empty());
  CHECK(state.plumtree().stats().payload_received == 1);
}
