// SPDX-License-Identifier: Apache-2.0
#pragma once
// The pieces of the flooding broadcaster that involve no IO, so that they can be tested alone:
// the message format, the duplicate filter and the recent-message history.
//
// How flooding works (apps/flooder/main.cpp puts it together on hypar::Node):
//   - broadcast: the origin numbers its messages 1, 2, 3, ... and sends each to every active peer;
//   - on receipt: the first copy of (origin, incarnation, seq) is delivered and forwarded to every
//     active peer except the one it came from; later copies are dropped (SeenSet);
//   - on link_up: the node re-sends its recent messages (History) to the new neighbour, so that a
//     node that joins, or a link repaired after a failure, catches up on what it missed.
// Over a connected, stable active-view graph every node receives every message at least once, and
// the SeenSet makes it exactly once.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "hypar/address.hpp"

namespace hypar::flooder {

// One broadcast message. The origin's incarnation distinguishes two lives of a node at the same
// address: a restarted origin numbers from 1 again, and its messages must not look like duplicates.
struct FloodMessage {
  Address origin;
  std::uint64_t incarnation = 0;
  std::uint64_t seq = 0;  // 1, 2, 3, ... per origin life
  std::string payload;

  friend bool operator==(const FloodMessage&, const FloodMessage&) = default;
};

// Wire format, carried as the bytes of one Node message:
//   [u8 kind = 0x46 'F'][Address origin][u64 incarnation][u64 seq][payload: the rest]
// (integers big-endian, Address as in docs/protocol.md).
inline constexpr std::uint8_t kFloodKind = 0x46;
std::vector<std::uint8_t> encode(const FloodMessage& message);
// nullopt if the bytes are not a flood message (wrong kind, truncated, bad address, seq 0).
std::optional<FloodMessage> decode(std::span<const std::uint8_t> bytes);

// Remembers which messages were seen, in bounded memory: per origin life, the highest sequence
// number below which everything was seen, plus the few seen above it (messages can overtake each
// other on different paths). Bounds: at most kMaxOrigins origin lives (the least recently heard
// one is forgotten) and kMaxAhead numbers above the contiguous mark per origin (past that, the
// mark jumps forward, treating the gap as lost).
class SeenSet {
 public:
  static constexpr std::size_t kMaxOrigins = 4096;
  static constexpr std::size_t kMaxAhead = 1024;

  // True the first time (origin, incarnation, seq) is offered, false for a duplicate. A message
  // from an older incarnation than one already seen at that address counts as a duplicate.
  bool first_time(const Address& origin, std::uint64_t incarnation, std::uint64_t seq);

  std::size_t origins() const { return origins_.size(); }

 private:
  struct Origin {
    std::uint64_t incarnation = 0;
    std::uint64_t contiguous = 0;   // every seq <= contiguous was seen
    std::set<std::uint64_t> ahead;  // seen numbers above contiguous + 1
    std::uint64_t last_used = 0;    // for evicting the least recently heard origin
  };
  std::map<Address, Origin> origins_;
  std::uint64_t clock_ = 0;
};

// The last kCapacity messages this node delivered (its own and others'), encoded, oldest first.
class History {
 public:
  static constexpr std::size_t kCapacity = 256;
  void add(std::vector<std::uint8_t> encoded);
  const std::deque<std::vector<std::uint8_t>>& messages() const { return messages_; }

 private:
  std::deque<std::vector<std::uint8_t>> messages_;
};

}  // namespace hypar::flooder
