// SPDX-License-Identifier: Apache-2.0
#pragma once
// The frame type registry: the first payload byte of every frame names what follows.
// One table for every layer, so that no two layers claim the same byte (docs/protocol.md).
#include <cstdint>

namespace hypar::frame_type {

inline constexpr std::uint8_t kHello = 0x00;            // transport handshake, first frame each way
inline constexpr std::uint8_t kHyparviewFirst = 0x01;   // HyParView messages 0x01..0x08
inline constexpr std::uint8_t kHyparviewLast = 0x08;
// Transport cluster-secret proof, right after HELLO when both sides have a secret
// (transport/include/hypar/transport/auth.hpp). Kept clear of the HyParView range.
inline constexpr std::uint8_t kAuth = 0x0F;
inline constexpr std::uint8_t kData = 0x10;             // application payload
inline constexpr std::uint8_t kPlumtreeFirst = 0x20;    // Plumtree 0x20..0x2F
inline constexpr std::uint8_t kPlumtreeGossip = 0x20;   // the four Plumtree messages (plumtree/codec.hpp);
inline constexpr std::uint8_t kPlumtreeIHave = 0x21;    // 0x24..0x2F stay reserved
inline constexpr std::uint8_t kPlumtreeGraft = 0x22;
inline constexpr std::uint8_t kPlumtreePrune = 0x23;
inline constexpr std::uint8_t kPlumtreeLast = 0x2F;

inline constexpr bool is_hyparview(std::uint8_t type) { return type >= kHyparviewFirst && type <= kHyparviewLast; }
inline constexpr bool is_plumtree(std::uint8_t type) { return type >= kPlumtreeFirst && type <= kPlumtreeLast; }

}  // namespace hypar::frame_type
