// SPDX-License-Identifier: Apache-2.0
#pragma once
// Wire codec of the HyParView messages: a frame payload is [u8 type][body], big-endian, with the
// exact layouts in docs/protocol.md. Decoding is total: any byte sequence yields a Message or a
// DecodeError, never undefined behaviour. A peer that sends a payload that fails to decode is
// broken or hostile: the caller logs the error and closes the connection.
#include <cstdint>
#include <span>
#include <vector>

#include "hypar/decoded.hpp"
#include "hypar/hyparview/messages.hpp"

// HyParView's frame types (every layer's: hypar/transport/frame_type.hpp).
namespace hypar::frame_type {
inline constexpr std::uint8_t kHyparviewFirst = 0x01;  // HyParView messages 0x01..0x08
inline constexpr std::uint8_t kHyparviewLast = 0x08;
inline constexpr bool is_hyparview(std::uint8_t type) { return type >= kHyparviewFirst && type <= kHyparviewLast; }
}  // namespace hypar::frame_type

namespace hypar::hyparview {

// Type bytes, within HyParView's range of frame types.
enum class MessageType : std::uint8_t {
  join = 0x01,
  forward_join = 0x02,
  neighbor = 0x03,
  neighbor_reply = 0x04,
  disconnect = 0x05,
  shuffle = 0x06,
  shuffle_reply = 0x07,
  keepalive = 0x08,
};
static_assert(static_cast<std::uint8_t>(MessageType::join) == frame_type::kHyparviewFirst);
static_assert(static_cast<std::uint8_t>(MessageType::keepalive) == frame_type::kHyparviewLast);

MessageType message_type(const Message& message);

// Appends [u8 type][body] to `out` (nothing is cleared). Preconditions: every name is at most
// kMaxNameLength bytes and every peer list holds at most kMaxShufflePeers entries.
void encode(const Message& message, std::vector<std::uint8_t>& out);

enum class DecodeError : std::uint8_t {
  truncated,       // the payload ends inside a field
  unknown_type,    // the type byte is not a HyParView message
  bad_value,       // a field holds a value outside its domain (bool/priority not 0|1, bad address, long name)
  too_many_peers,  // a peer list count above kMaxShufflePeers
  trailing_bytes,  // bytes left after a complete message
};

// Clear text for logs, e.g. "truncated message".
const char* describe(DecodeError error);

using DecodeResult = Decoded<Message, DecodeError>;

// Decodes one whole frame payload (the type byte included).
DecodeResult decode(std::span<const std::uint8_t> payload);

}  // namespace hypar::hyparview
