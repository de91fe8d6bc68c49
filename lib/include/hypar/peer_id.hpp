// SPDX-License-Identifier: Apache-2.0
#pragma once
// A node's identity: where it listens, a human-readable name, and an incarnation number that the
// node picks anew at every start (e.g. its start time). Two PeerIds with the same address but a
// different incarnation are different lives of a node at that address: the newer one replaces
// the older one everywhere, and news about the older one is stale.
#include <cstdint>
#include <string>

#include "hypar/address.hpp"

namespace hypar {

// Longest node name accepted anywhere (the wire encodes its length in one byte).
inline constexpr std::size_t kMaxNameLength = 64;

struct PeerId {
  Address address;
  std::string name;
  std::uint64_t incarnation = 0;

  // "name@IP:PORT#incarnation", for logs.
  std::string to_string() const;

  friend bool operator==(const PeerId&, const PeerId&) = default;
};

// True when `candidate` describes a later life of the node at the same address than `known`.
inline bool is_newer_life(const PeerId& candidate, const PeerId& known) {
  return candidate.address == known.address && candidate.incarnation > known.incarnation;
}

}  // namespace hypar
