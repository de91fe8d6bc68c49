// SPDX-License-Identifier: Apache-2.0
#pragma once
// Plumtree over the simulated HyParView overlay: one gossip::State per node (the Plumtree core
// and its glue to membership, the same the Broadcaster runs on a Node), fed with the node's
// PeerUp / PeerDown, its messages encoded with the real codec and carried on the node's simulated
// links (Simulator::send_app), its timers in the simulator's virtual time. Deterministic like the
// simulator: same seed, same run.
//
// Per broadcast it measures what the Plumtree paper reports:
//   reliability  % of live nodes that delivered it
//   RMR          m / (n - 1) - 1, m = payload (GOSSIP) messages received for it, n = nodes that
//                delivered it, its sender included (0 when n <= 1)
//   LDH          hops of its last delivery (in time)
// Payload messages are counted where they arrive (messages to a node that has died are lost
// on the way and not counted).
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <variant>
#include <vector>

#include "hypar/gossip/state.hpp"
#include "hypar/plumtree/core.hpp"
#include "hypar/sim/simulator.hpp"

namespace hypar::sim {

// What happened to one broadcast so far.
struct BroadcastRecord {
  plumtree::MessageId id;
  std::size_t sender = 0;
  Instant sent_at{};
  std::vector<std::uint8_t> delivered;  // per node: how many times it delivered this message
  std::size_t reached = 0;              // nodes that delivered it at least once, sender included
  std::uint64_t duplicate_deliveries = 0;  // deliveries beyond the first at a node (must stay 0)
  std::uint64_t payload_msgs = 0;
  std::uint16_t last_delivery_hops = 0;
  Instant last_delivery_at{};
};

struct BroadcastMetrics {
  double reliability = 0;  // percent of the nodes alive now
  double rmr = 0;
  std::uint16_t ldh = 0;
  std::uint64_t payload_msgs = 0;
};

class PlumtreeSim final : public UpperLayer {
 public:
  // Attaches itself to `sim`, which must be empty (no node added yet) and outlive this object.
  // Node i's core gets mix_seed(seed, i). Throws std::invalid_argument on invalid options.
  PlumtreeSim(Simulator& sim, plumtree::Options options, std::uint64_t seed);
  ~PlumtreeSim() override;
  PlumtreeSim(const PlumtreeSim&) = delete;
  PlumtreeSim& operator=(const PlumtreeSim&) = delete;

  // Broadcasts `payload` from live `node` now. Returns the index of its record, or the core's
  // refusal (e.g. payload too large). Run the simulator to let it spread.
  std::variant<std::size_t, plumtree::BroadcastError> broadcast(std::size_t node, std::vector<std::uint8_t> payload);

  const std::vector<BroadcastRecord>& records() const { return records_; }
  // The figures of record i, reliability measured against the nodes alive now.
  BroadcastMetrics metrics(std::size_t record) const;

  // Node's core, or nullptr before the node had any Plumtree event.
  const plumtree::Core* core(std::size_t node) const;
  // Totals over every node, received side: GOSSIP, and IHAVE + GRAFT + PRUNE messages.
  std::uint64_t payload_msgs() const { return payload_msgs_; }
  std::uint64_t control_msgs() const { return control_msgs_; }
  // Deliveries of messages no record knows (should stay 0) and undecodable messages (must stay 0).
  std::uint64_t unknown_deliveries() const { return unknown_deliveries_; }
  std::uint64_t decode_errors() const { return decode_errors_; }

  // ---- UpperLayer ----
  void on_app_event(std::size_t node, const hyparview::Output& event, Instant now) override;
  void on_app_message(std::size_t node, std::size_t from, std::span<const std::uint8_t> bytes, Instant now) override;
  void on_app_timer(std::size_t node, std::uint64_t cookie, Instant now) override;

 private:
  gossip::State& state_of(std::size_t node);
  void drain(std::size_t node);
  void record_delivery(std::size_t node, const plumtree::Deliver& deliver);

  Simulator& sim_;
  plumtree::Options options_;
  std::uint64_t seed_;
  std::vector<std::unique_ptr<gossip::State>> states_;
  std::vector<BroadcastRecord> records_;
  std::map<plumtree::MessageId, std::size_t> record_of_;
  // Timers in flight, by cookie; a slot is reused once its timer fired. Timers of dead nodes
  // never fire and keep their slot (a few per dead node).
  std::vector<plumtree::Timer> timers_;
  std::vector<std::uint64_t> free_timers_;
  std::vector<std::uint8_t> buffer_;  // encoding scratch
  std::vector<plumtree::Output> output_buffer_;  // drain()'s, kept for its capacity

  std::uint64_t payload_msgs_ = 0;
  std::uint64_t control_msgs_ = 0;
  std::uint64_t unknown_deliveries_ = 0;
  std::uint64_t decode_errors_ = 0;
};

// One broadcast round, as hypar-sim plumtree prints it.
struct RoundResult {
  std::size_t record = 0;  // index into PlumtreeSim::records()
  BroadcastMetrics metrics;
  std::uint64_t control_msgs = 0;  // IHAVE + GRAFT + PRUNE received by any node during the round
  std::uint64_t duplicate_deliveries = 0;
};

// Broadcasts a small payload from live `sender`, runs the simulator for `round_length`, and
// measures the broadcast (reliability against the nodes alive at the end of the round).
// Throws std::runtime_error if the simulator's event bound stops the run.
RoundResult broadcast_round(Simulator& sim, PlumtreeSim& plumtree, std::size_t sender, Duration round_length);

}  // namespace hypar::sim
