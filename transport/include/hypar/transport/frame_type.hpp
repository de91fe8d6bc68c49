// SPDX-License-Identifier: Apache-2.0
#pragma once
// Frame types: the first payload byte of every frame names what follows (docs/protocol.md). Each
// layer declares its own bytes in namespace hypar::frame_type, in its own header, and a layer that
// carries several checks at compile time that they stay apart:
//   transport, this file: HELLO 0x00 and AUTH 0x0F (the handshake);
//   hyparview (hypar/hyparview/codec.hpp): 0x01..0x08;
//   node (hypar/node/frame_type.hpp): DATA 0x10, checked apart from the two above;
//   plumtree (hypar/plumtree/codec.hpp): 0x20..0x2F, checked apart from the node's by the Broadcaster.
#include <cstdint>

namespace hypar::frame_type {

inline constexpr std::uint8_t kHello = 0x00;  // transport handshake, first frame each way
// Cluster-secret proof, right after HELLO when both sides have a secret (hypar/transport/auth.hpp).
inline constexpr std::uint8_t kAuth = 0x0F;

}  // namespace hypar::frame_type
