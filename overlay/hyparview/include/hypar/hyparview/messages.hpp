// SPDX-License-Identifier: Apache-2.0
#pragma once
// The HyParView protocol messages (Leitao, Pereira, Rodrigues, DSN 2007) as plain values.
// The sender of a message is the peer at the other end of the link it arrived on; it is not
// repeated inside messages. docs/protocol.md specifies their wire layout.
#include <cstdint>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "hypar/peer_id.hpp"

namespace hypar::hyparview {

// Most peers a SHUFFLE or SHUFFLE_REPLY may carry (1 + k_active + k_passive must fit).
inline constexpr std::size_t kMaxShufflePeers = 64;

// A new node asks the contact it connected to for a place in the overlay.
struct Join {
  friend bool operator==(const Join&, const Join&) = default;
};

// The contact announces `joiner` along random walks of `ttl` hops (ARWL, counting down).
struct ForwardJoin {
  PeerId joiner;
  std::uint8_t ttl = 0;
  friend bool operator==(const ForwardJoin&, const ForwardJoin&) = default;
};

enum class Priority : std::uint8_t { low = 0, high = 1 };

// Asks the receiver to add the sender to its active view. High priority must be accepted
// (the sender has no active peer left); low priority is accepted only if there is room.
struct Neighbor {
  Priority priority = Priority::low;
  // Set by a join swap (Options::join_swaps): the neighbour the sender will drop to make room for
  // the receiver. A receiver that must evict a peer of its own for the sender introduces that
  // peer to this one (Disconnect::ask), so the two nodes the swap leaves one short link up.
  std::optional<PeerId> dropping;

  Neighbor() = default;
  Neighbor(Priority p, std::optional<PeerId> dropped = std::nullopt) : priority(p), dropping(std::move(dropped)) {}
  friend bool operator==(const Neighbor&, const Neighbor&) = default;
};

struct NeighborReply {
  bool accepted = false;
  friend bool operator==(const NeighborReply&, const NeighborReply&) = default;
};

// The sender removes the receiver from its active view. alive=true: the sender stays up and
// keeps the receiver as a passive peer (an eviction). alive=false: the sender is leaving.
struct Disconnect {
  bool alive = true;
  // With alive: a node that has just lost a neighbour too (the other end of a join swap, from
  // Neighbor::dropping); the receiver asks it first.
  std::optional<PeerId> ask;

  Disconnect() = default;
  Disconnect(bool is_alive, std::optional<PeerId> ask_first = std::nullopt)
      : alive(is_alive), ask(std::move(ask_first)) {}
  friend bool operator==(const Disconnect&, const Disconnect&) = default;
};

// A random walk carrying a sample of the origin's views; the node where it stops answers the
// origin directly with a SHUFFLE_REPLY carrying a sample of its passive view.
struct Shuffle {
  PeerId origin;
  std::uint8_t ttl = 0;
  std::uint32_t id = 0;  // chosen by the origin; echoed in the reply
  std::vector<PeerId> peers;
  friend bool operator==(const Shuffle&, const Shuffle&) = default;
};

struct ShuffleReply {
  std::uint32_t id = 0;
  std::vector<PeerId> peers;
  friend bool operator==(const ShuffleReply&, const ShuffleReply&) = default;
};

// Sent to every active peer each keepalive interval; any message resets the silence timer.
struct Keepalive {
  friend bool operator==(const Keepalive&, const Keepalive&) = default;
};

using Message =
    std::variant<Join, ForwardJoin, Neighbor, NeighborReply, Disconnect, Shuffle, ShuffleReply, Keepalive>;

// Lower-case protocol name of a message ("join", "forward_join", ...), for logs.
const char* message_name(const Message& message);

}  // namespace hypar::hyparview
