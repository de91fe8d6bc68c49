// SPDX-License-Identifier: Apache-2.0
#pragma once
// Why a peer left the active view: carried by the core's PeerDown and the node's LinkDown. Its own
// header so that the node's public events need not pull in the whole protocol core.
#include <cstdint>

namespace hypar::hyparview {

enum class DownReason : std::uint8_t {
  graceful,   // the peer announced it is leaving (DISCONNECT alive=false), or we left
  failed,     // the link broke or could not be kept
  evicted,    // one side made room for another peer (DISCONNECT alive=true); the peer stays passive
  timed_out,  // nothing heard from the peer for keepalive_timeout
};
// "graceful", "failed", "evicted" or "timed_out".
const char* reason_name(DownReason reason);

}  // namespace hypar::hyparview
