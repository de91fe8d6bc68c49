// SPDX-License-Identifier: Apache-2.0
#pragma once
// Wire codec of the Plumtree messages: a frame payload is [u8 type][body], big-endian, with the
// layouts in docs/protocol.md. Decoding is total: any byte sequence yields a Message or a
// DecodeError, never undefined behaviour. A peer whose payload fails to decode is broken or
// hostile: the caller logs describe(error) and closes the connection.
#include <cstdint>
#include <span>
#include <vector>

#include "hypar/decoded.hpp"
#include "hypar/plumtree/messages.hpp"

// Plumtree's frame types (every layer's: hypar/transport/frame_type.hpp). Plumtree's messages
// travel inside node messages; the Broadcaster checks this range is clear of the node's own bytes.
namespace hypar::frame_type {
inline constexpr std::uint8_t kPlumtreeFirst = 0x20;    // Plumtree 0x20..0x2F
inline constexpr std::uint8_t kPlumtreeGossip = 0x20;   // the four Plumtree messages;
inline constexpr std::uint8_t kPlumtreeIHave = 0x21;    // 0x24..0x2F stay reserved
inline constexpr std::uint8_t kPlumtreeGraft = 0x22;
inline constexpr std::uint8_t kPlumtreePrune = 0x23;
inline constexpr std::uint8_t kPlumtreeLast = 0x2F;
inline constexpr bool is_plumtree(std::uint8_t type) { return type >= kPlumtreeFirst && type <= kPlumtreeLast; }
}  // namespace hypar::frame_type

namespace hypar::plumtree {

// Type bytes, within Plumtree's range of frame types (0x20..0x2F).
enum class MessageType : std::uint8_t {
  gossip = frame_type::kPlumtreeGossip,
  ihave = frame_type::kPlumtreeIHave,
  graft = frame_type::kPlumtreeGraft,
  prune = frame_type::kPlumtreePrune,
};

MessageType message_type(const Message& message);

// Appends [u8 type][body] to `out` (nothing is cleared). Preconditions: a GOSSIP payload of at
// most kMaxPayloadBytes, an IHAVE of at most kMaxIHaveEntries entries.
void encode(const Message& message, std::vector<std::uint8_t>& out);

enum class DecodeError : std::uint8_t {
  truncated,          // the payload ends inside a field
  unknown_type,       // the type byte is not a Plumtree message
  bad_value,          // a field holds a value outside its domain (bad address, flag not 0|1)
  payload_too_large,  // a GOSSIP payload length above kMaxPayloadBytes
  too_many_entries,   // an IHAVE entry count above kMaxIHaveEntries
  trailing_bytes,     // bytes left after a complete message
};

// Clear text for logs, e.g. "truncated message (...)".
const char* describe(DecodeError error);

using DecodeResult = Decoded<Message, DecodeError>;

// Decodes one whole frame payload (the type byte included).
DecodeResult decode(std::span<const std::uint8_t> payload);

}  // namespace hypar::plumtree
