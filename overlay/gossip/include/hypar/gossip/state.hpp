// SPDX-License-Identifier: Apache-2.0
#pragma once
// gossip::State: membership and broadcast together, sans-IO. It holds the Plumtree core and the
// glue between it and HyParView: the active view's changes (HyParView's PeerUp / PeerDown) make
// and unmake Plumtree neighbours, and Plumtree messages arrive as the bytes a link carried. Both
// runtimes of Plumtree drive it: hypar::Broadcaster on a Node (whose LinkUp / LinkDown events are
// HyParView's PeerUp / PeerDown) and the simulator's PlumtreeSim (on the simulated cores' outputs).
//
// The HyParView core itself stays with its own runtime (Node, Simulator): the Broadcaster uses
// the Node through its public API only, so membership reaches this state as events.
//
// Call order as for plumtree::Core (its header): inputs with a `now` that never goes backwards,
// then take_outputs() and carry them out (Send: encode with plumtree::encode and send on the link
// to `to`; Deliver: to the application; ScheduleTimer: timer_fired at `at`).
#include <cstdint>
#include <span>
#include <vector>

#include "hypar/hyparview/core.hpp"
#include "hypar/plumtree/codec.hpp"
#include "hypar/plumtree/core.hpp"

namespace hypar::gossip {

class State {
 public:
  // Throws std::invalid_argument listing every problem when options are invalid.
  State(Address self, plumtree::Options options, std::uint64_t seed);

  // ---- inputs ----
  // A change of the HyParView active view: PeerUp makes the peer a Plumtree neighbour, PeerDown
  // ends that. Returns false (and does nothing) for any other HyParView output.
  bool membership(const hyparview::Output& event, Instant now);
  // A Plumtree message from `from`, as the link carried it. One that does not decode changes
  // nothing (and is counted); the result says which it was and holds the message otherwise.
  plumtree::DecodeResult received(const Address& from, std::span<const std::uint8_t> bytes, Instant now);
  plumtree::BroadcastResult broadcast(std::vector<std::uint8_t> payload, Instant now);
  void timer_fired(const plumtree::Timer& timer, Instant now);
  // The link to `peer` cannot keep up (its send backlog is full) / has caught up again: as
  // plumtree::Core::peer_congested and peer_drained.
  void peer_congested(const Address& peer, Instant now) { core_.peer_congested(peer, now); }
  void peer_drained(const Address& peer, Instant now) { core_.peer_drained(peer, now); }

  // ---- outputs ----
  // As plumtree::Core::take_outputs: appends, in order, everything produced since the last call.
  void take_outputs(std::vector<plumtree::Output>& out) { core_.take_outputs(out); }

  // ---- getters ----
  const plumtree::Core& plumtree() const { return core_; }
  std::uint64_t decode_errors() const { return decode_errors_; }

 private:
  plumtree::Core core_;
  std::uint64_t decode_errors_ = 0;
};

}  // namespace hypar::gossip
