// SPDX-License-Identifier: Apache-2.0
#pragma once
// Flooding over the simulated HyParView overlay: the dissemination the HyParView paper measures.
// A broadcast's origin sends it to all its active peers; a node that receives it for the first
// time delivers it and forwards it to all its active peers but the one it came from. Active
// peers are read from the node's core when it forwards (what Node::peers() gives an application),
// so a send to a crashed peer is how the core learns of the crash (with CrashNotice::on_send).
//
// Broadcasts are measured one at a time: broadcast() starts a new one, and a copy of an older
// broadcast that arrives after that is dropped (not delivered, not forwarded) and counted as late.
// Deterministic like the simulator: no state depends on anything but the simulator's events.
#include <cstdint>
#include <span>
#include <vector>

#include "hypar/sim/simulator.hpp"

namespace hypar::sim {

class FloodSim final : public UpperLayer {
 public:
  // Attaches itself to `sim` (which must outlive it); may be created before or after the nodes.
  explicit FloodSim(Simulator& sim);
  ~FloodSim() override;
  FloodSim(const FloodSim&) = delete;
  FloodSim& operator=(const FloodSim&) = delete;

  // Starts broadcast number broadcasts()+1 from live `origin` now (the origin delivers it at
  // once). Run the simulator to let it spread.
  void broadcast(std::size_t origin);

  // The current broadcast: live nodes that delivered it, and that as a percentage of the live nodes.
  std::size_t reached() const;
  double reliability() const;
  // Copies of the current broadcast sent so far (including those lost to crashed peers).
  std::uint64_t messages_sent() const { return sent_; }
  std::uint64_t broadcasts() const { return current_; }
  // Copies of earlier broadcasts that arrived too late, and undecodable messages (must stay 0).
  std::uint64_t late_messages() const { return late_; }
  std::uint64_t malformed_messages() const { return malformed_; }

  // ---- UpperLayer ----
  void on_app_event(std::size_t node, const hyparview::Output& event, Instant now) override;
  void on_app_message(std::size_t node, std::size_t from, std::span<const std::uint8_t> bytes, Instant now) override;
  void on_app_timer(std::size_t node, std::uint64_t cookie, Instant now) override;

 private:
  // Delivers the current broadcast at `node` and forwards it to its active peers but `from`.
  void deliver_and_forward(std::size_t node, const Address* from);

  Simulator& sim_;
  std::uint32_t current_ = 0;                // id of the current broadcast; 0 before the first
  std::vector<std::uint32_t> last_delivered_;  // per node: id of the newest broadcast it delivered
  std::uint64_t sent_ = 0;
  std::uint64_t late_ = 0;
  std::uint64_t malformed_ = 0;
};

}  // namespace hypar::sim
