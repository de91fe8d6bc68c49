// SPDX-License-Identifier: Apache-2.0
#pragma once
// The frames a node carries on a connection: the transport's handshake, HyParView's messages and
// DATA, the application's bytes (hypar/transport/frame_type.hpp lists every layer's bytes).
#include <cstdint>

#include "hypar/hyparview/codec.hpp"
#include "hypar/transport/frame_type.hpp"

namespace hypar::frame_type {

inline constexpr std::uint8_t kData = 0x10;  // application payload

// True for a byte a node already gives a meaning to; an upper layer's messages travel inside DATA
// and must keep their own first bytes clear of these (the Broadcaster checks Plumtree's).
inline constexpr bool is_node_frame(std::uint8_t type) {
  return type == kHello || type == kAuth || type == kData || is_hyparview(type);
}

static_assert(!is_hyparview(kHello) && !is_hyparview(kAuth) && !is_hyparview(kData));
static_assert(kHello != kAuth && kHello != kData && kAuth != kData);

}  // namespace hypar::frame_type
