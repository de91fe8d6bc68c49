// SPDX-License-Identifier: Apache-2.0
#include "hypar/plumtree/messages.hpp"

#include <fmt/core.h>

namespace hypar::plumtree {

std::string MessageId::to_string() const { return fmt::format("{}/{}", origin.to_string(), seq); }

std::uint64_t content_hash(std::span<const std::uint8_t> payload) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
  for (std::uint8_t byte : payload) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;  // FNV prime
  }
  return hash;
}

const char* message_name(const Message& message) {
  switch (message.index()) {
    case 0: return "gossip";
    case 1: return "ihave";
    case 2: return "graft";
    case 3: return "prune";
  }
  return "unknown";
}

}  // namespace hypar::plumtree
