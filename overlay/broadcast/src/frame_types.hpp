// SPDX-License-Identifier: Apache-2.0
#pragma once
// The Broadcaster's Plumtree messages travel as node messages: a message whose first byte is in
// Plumtree's range is Plumtree's. That range must stay clear of every byte the node itself uses.
#include "hypar/node/frame_type.hpp"
#include "hypar/plumtree/codec.hpp"

namespace hypar::frame_type {

static_assert([] {
  for (unsigned type = kPlumtreeFirst; type <= kPlumtreeLast; ++type) {
    if (is_node_frame(static_cast<std::uint8_t>(type))) return false;
  }
  return true;
}(), "Plumtree's frame types overlap the node's");

}  // namespace hypar::frame_type
