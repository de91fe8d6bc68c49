// SPDX-License-Identifier: Apache-2.0
#pragma once
// What the simulator's link-level tests share: a quiet configuration and a harmless numbered
// message to follow through a link.
#include <cstddef>
#include <cstdint>

#include "hypar/sim/simulator.hpp"

namespace hypar::sim::testing {

// A simulator whose nodes send no keepalives, so that a test sees only the traffic it causes.
inline Config quiet_config(std::uint64_t seed) {
  Config config;
  config.seed = seed;
  config.options.keepalive_interval = Duration::zero();
  return config;
}

// An unsolicited SHUFFLE_REPLY is ignored by the core: a harmless numbered message.
inline hyparview::Send numbered(const Simulator& s, std::size_t to, std::uint32_t id) {
  return hyparview::Send{s.address_of(to), hyparview::Message{hyparview::ShuffleReply{id, {}}}};
}

}  // namespace hypar::sim::testing
