// SPDX-License-Identifier: Apache-2.0
#pragma once
// The Plumtree messages (Leitao, Pereira, Rodrigues, "Epidemic Broadcast Trees", SRDS 2007) as
// plain values. As with HyParView, the sender is the peer at the other end of the link a message
// arrived on; it is not repeated inside. docs/protocol.md specifies the wire layout.
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "hypar/address.hpp"

namespace hypar::plumtree {

// Hard ceilings of the wire format; Options may only lower them.
inline constexpr std::size_t kMaxPayloadBytes = 1u << 20;  // the transport's default frame limit
inline constexpr std::size_t kMaxIHaveEntries = 1024;      // per IHAVE message

// Identifies a broadcast: the node that sent it first, and a number unique at that node (a
// sequence number, or a hash of the payload, see IdScheme).
struct MessageId {
  Address origin;
  std::uint64_t seq = 0;

  std::string to_string() const;  // "IP:PORT/seq", for logs
  friend bool operator==(const MessageId&, const MessageId&) = default;
  // By seq first: it nearly always decides, and is cheaper to compare than an address.
  friend std::strong_ordering operator<=>(const MessageId& a, const MessageId& b) {
    if (auto c = a.seq <=> b.seq; c != 0) return c;
    return a.origin <=> b.origin;
  }
};

struct MessageIdHash {
  std::size_t operator()(const MessageId& id) const noexcept {
    return AddressHash{}(id.origin) ^ static_cast<std::size_t>(id.seq * 0x9e3779b97f4a7c15ULL);
  }
};

// FNV-1a, 64 bits: a cheap content hash for payload-derived message ids (not cryptographic:
// a hostile origin can make two payloads collide, which only hurts its own broadcasts).
std::uint64_t content_hash(std::span<const std::uint8_t> payload);

// The payload itself, pushed along eager (tree) links. `hops` counts the links it has crossed
// when it arrives: neighbours of the origin receive hops = 1. `age_ms` is how long ago, as far as
// the sender can tell, the origin broadcast it: the time it spent at each node on its way (link
// transit is charged 1 ms per link by the receiver). Every node caches and announces a message
// only while it is younger than payload_cache_ttl, so a message's lifetime is bounded overlay-wide
// however often churn hands it to new neighbours.
struct Gossip {
  MessageId id;
  std::uint16_t hops = 0;
  std::vector<std::uint8_t> payload;
  std::uint32_t age_ms = 0;
  friend bool operator==(const Gossip&, const Gossip&) = default;
};

// "I have delivered this message": sent to lazy peers, batched. `hops` is what the receiver's
// hop count would be had the payload come this way; `age_ms` is the message's age when the IHAVE
// was sent (as in Gossip).
struct IHaveEntry {
  MessageId id;
  std::uint16_t hops = 0;
  std::uint32_t age_ms = 0;
  friend bool operator==(const IHaveEntry&, const IHaveEntry&) = default;
};
struct IHave {
  std::vector<IHaveEntry> entries;  // at most kMaxIHaveEntries
  friend bool operator==(const IHave&, const IHave&) = default;
};

// Makes the link eager (a tree branch) again. With an id, asks for that message's payload, which
// the receiver resends if it still has it cached; without, only repairs the tree (optimisation).
struct Graft {
  std::optional<MessageId> id;
  std::uint16_t hops = 0;  // from the IHAVE that made us ask
  friend bool operator==(const Graft&, const Graft&) = default;
};

// Makes the link lazy: the sender received a payload twice and wants only IHAVEs on this link.
struct Prune {
  friend bool operator==(const Prune&, const Prune&) = default;
};

using Message = std::variant<Gossip, IHave, Graft, Prune>;

// Lower-case protocol name ("gossip", "ihave", "graft", "prune"), for logs.
const char* message_name(const Message& message);
// True for GOSSIP, the only message carrying a payload; the others are control messages.
inline bool is_payload(const Message& message) { return std::holds_alternative<Gossip>(message); }

}  // namespace hypar::plumtree
