// SPDX-License-Identifier: Apache-2.0
#pragma once
// hyparview::MembershipCounters: what a HyParView member did, counted from the inputs and outputs
// of its core as the runtime (or the simulator) sees them, without touching the core. The node
// runtime and hypar-sim both feed one per node and export it under the same Prometheus names
// (docs/operations.md), so a dashboard built on a simulation works on a real cluster.
//
// Feed order: on_sent for each message handed to a link, on_received for each decoded message,
// on_output for each PeerUp/PeerDown output, on_timer for each timer fired (after the core took
// it, unless Core::awaits_reply(timer): a late deadline the core re-armed), on_link_gone when a
// link to a peer ends (lost, closed, or its connect failed). Plain integers: one object per node,
// used on that node's thread only.
#include <array>
#include <cstdint>
#include <map>

#include "hypar/address.hpp"
#include "hypar/hyparview/core.hpp"
#include "hypar/hyparview/messages.hpp"
#include "hypar/prometheus_text.hpp"

namespace hypar::hyparview {

// The outcome of a NEIGHBOR request this node sent.
enum class NeighborResult : std::uint8_t { accepted, rejected, timed_out, failed };
inline constexpr std::size_t kNeighborResults = 4;
const char* result_name(NeighborResult result);

inline constexpr std::size_t kMessageTypes = std::variant_size_v<Message>;
inline constexpr std::size_t kMaxDownReasons = 8;  // room for reasons added later

struct MembershipCounters {
  std::uint64_t link_up = 0;                              // peers that entered the active view
  std::array<std::uint64_t, kMaxDownReasons> link_down{};  // peers that left it, by DownReason
  std::array<std::uint64_t, kMessageTypes> sent{};        // protocol messages, by Message index
  std::array<std::uint64_t, kMessageTypes> received{};
  std::uint64_t shuffles = 0;       // shuffles this node started (SHUFFLE sent with itself as origin)
  std::uint64_t join_attempts = 0;  // JOIN sent to a contact
  std::array<std::array<std::uint64_t, kNeighborResults>, 2> neighbor_requests{};  // [Priority][NeighborResult]

  void on_sent(const Address& self, const Address& to, const Message& message);
  void on_received(const Address& from, const Message& message);
  void on_output(const Output& output);  // PeerUp and PeerDown; other outputs are ignored
  void on_timer(const Timer& timer);
  void on_link_gone(const Address& peer);

 private:
  void settle(const Address& peer, NeighborResult result);
  std::map<Address, Priority> neighbor_pending_;  // requests awaiting a reply (a handful)
};

// Appends the membership families to `out`: hypar_active_peers, hypar_passive_peers,
// hypar_link_up_total, hypar_link_down_total{reason}, hypar_messages_sent_total{type},
// hypar_messages_received_total{type}, hypar_shuffles_total, hypar_join_attempts_total,
// hypar_neighbor_requests_total{priority,result}; every sample carries `labels`.
void write_prometheus(prom::Families& out, const MembershipCounters& counters, std::size_t active_peers,
                      std::size_t passive_peers, const prom::Labels& labels = {});

}  // namespace hypar::hyparview
