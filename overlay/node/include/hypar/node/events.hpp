// SPDX-License-Identifier: Apache-2.0
#pragma once
// What a Node tells its application, consumed in a coroutine loop with Node::next_event().
#include <cstdint>
#include <variant>
#include <vector>

#include "hypar/hyparview/down_reason.hpp"
#include "hypar/metadata.hpp"
#include "hypar/peer_id.hpp"

namespace hypar {

using hyparview::DownReason;

// `peer` entered the active view: messages can be sent to it. `metadata` is what it advertised
// (NodeConfig::metadata) in the handshake of this link.
struct LinkUp {
  PeerId peer;
  Metadata metadata{};
};
// `peer` left the active view; `reason` says why (graceful, failed, evicted, timed_out).
struct LinkDown {
  PeerId peer;
  DownReason reason;
};
// An application message received from an active peer, delivered in the order the peer sent it.
// (Named for the event: hyparview::Message and plumtree::Message are wire messages.)
struct Received {
  PeerId peer;
  std::vector<std::uint8_t> bytes;
};

using Event = std::variant<LinkUp, LinkDown, Received>;

enum class SendResult : std::uint8_t {
  ok,
  queue_full,     // the peer's bounded queue is full (try_send only; send() waits instead)
  not_a_peer,     // the address is not in the active view
  too_large,      // bigger than the maximum frame size
  stopped,        // the node left or is shutting down
};
const char* describe(SendResult result);

}  // namespace hypar
