// SPDX-License-Identifier: Apache-2.0
#include "hypar/gossip/state.hpp"

namespace hypar::gossip {

State::State(Address self, plumtree::Options options, std::uint64_t seed) : core_(self, std::move(options), seed) {}

bool State::membership(const hyparview::Output& event, Instant now) {
  if (const auto* up = std::get_if<hyparview::PeerUp>(&event)) {
    core_.neighbor_up(up->peer.address, now);
    return true;
  }
  if (const auto* down = std::get_if<hyparview::PeerDown>(&event)) {
    core_.neighbor_down(down->peer.address, now);
    return true;
  }
  return false;
}

plumtree::DecodeResult State::received(const Address& from, std::span<const std::uint8_t> bytes, Instant now) {
  plumtree::DecodeResult decoded = plumtree::decode(bytes);
  if (!decoded) {
    ++decode_errors_;
    return decoded;
  }
  core_.received(from, decoded.message(), now);
  return decoded;
}

plumtree::BroadcastResult State::broadcast(std::vector<std::uint8_t> payload, Instant now) {
  return core_.broadcast(std::move(payload), now);
}

void State::timer_fired(const plumtree::Timer& timer, Instant now) { core_.timer_fired(timer, now); }

}  // namespace hypar::gossip
