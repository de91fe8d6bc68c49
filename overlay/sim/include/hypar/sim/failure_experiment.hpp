// SPDX-License-Identifier: Apache-2.0
#pragma once
// The HyParView paper's failure experiment (DSN 2007, section 5), with the real core:
//   1. `nodes` nodes join one by one through node 0, `join_interval` apart;
//   2. `rounds` membership rounds (shuffle periods) stabilise the overlay;
//   3. `fail_percent` % of the nodes crash at once;
//   4. `messages` broadcasts from random live nodes, each flooded over the active views
//      (FloodSim), or with Broadcast::plumtree sent with Plumtree (PlumtreeSim, `plumtree`
//      options) over the same overlay, each given `round_length` of virtual time before the
//      next one starts.
// "No membership rounds between messages": from the crash on, shuffle timers are held
// (Simulator::hold_timers), so passive views are not refreshed; the reactive part of the core
// still runs: crashes are noticed through the links (per `crash_notice`), a lost neighbour is
// replaced from the passive view (NEIGHBOR), timeouts and re-joins fire. Keepalive is off: the
// paper has no heartbeat, TCP is its failure detector.
//   - CrashNotice::reset (default): the crashed node's connections are reset, its neighbours
//     notice one latency later (a crashed process; the OS closes its sockets).
//   - CrashNotice::on_send: a neighbour notices only when it sends to the dead node (a vanished
//     host). A node whose neighbours all died then never notices, until some other node picks
//     it from its passive view, and misses every broadcast meanwhile.
//
// Every level runs on its own simulator built from the same seed, so every level starts from
// the same stabilised overlay; the crashed nodes and the senders are drawn from seed-derived
// streams too. Same parameters => same result. Building is most of a level's time at scale:
// FailureOverlay builds once, and hypar-sim runs each level on a copy of it (a forked process).
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "hypar/hyparview/options.hpp"
#include "hypar/plumtree/options.hpp"
#include "hypar/sim/simulator.hpp"
#include "hypar/time.hpp"

namespace hypar::sim {

// How the broadcasts travel: flooded over the active views (the HyParView paper), or by Plumtree.
enum class Broadcast : std::uint8_t { flood, plumtree };

struct FailureParams {
  std::size_t nodes = 1000;
  std::uint64_t rounds = 50;
  Duration join_interval = milliseconds(10);
  std::uint64_t messages = 1000;
  Duration round_length = milliseconds(500);
  std::uint64_t seed = 1;
  CrashNotice crash_notice = CrashNotice::reset;
  hyparview::Options options;  // keepalive is turned off whatever this says
  Duration latency_min = milliseconds(1);  // the simulator's link latency (Config)
  Duration latency_max = milliseconds(10);
  Broadcast broadcast = Broadcast::flood;
  plumtree::Options plumtree;  // with Broadcast::plumtree
};

struct FailureResult {
  double fail_percent = 0;
  std::size_t alive = 0;            // nodes left after the crash
  std::vector<double> reliability;  // per broadcast, % of live nodes that delivered it
  double avg_reliability = 0;
  // 1-based index of the first broadcast that reached every live node; 0 if none did.
  std::size_t msgs_until_full = 0;
  // Flood copies that outlived their round (should be 0); with Plumtree, broadcasts whose last
  // delivery came after their round ended.
  std::uint64_t late_messages = 0;
  std::uint64_t anomalies = 0;      // the simulator's link-model anomalies (must be 0)
  // Survivors orphaned by the crash: no live node in either view right after it; only another
  // survivor that picks them from its own passive view can link them again.
  std::size_t orphaned_at_crash = 0;
  // Survivors outside the largest component of the live active-view graph when the run ends: a
  // broadcast reaches the sender's component, so each costs about 1/alive of every broadcast.
  std::size_t cut_off_at_end = 0;
  // Survivors stranded: no live node in their active view (cut off alone). At the end of the run, and per
  // broadcast whether its sender was one (its flood can reach nobody). A stranded survivor costs
  // each later broadcast one node, and each broadcast it sends nearly all of them: together most
  // of the distance to the paper at 90 % failed (docs/paper.md).
  std::size_t stranded_at_end = 0;
  std::uint64_t stranded_senders = 0;
};

using StepProgress = std::function<void(const char* phase, std::uint64_t step)>;

// Steps 1-2 in the constructor, steps 3-4 in crash_and_broadcast(), which may run once: it
// crashes nodes of this overlay. Throws as run_failure_level() does.
class FailureOverlay {
 public:
  explicit FailureOverlay(const FailureParams& params, const StepProgress& progress = {});
  ~FailureOverlay();
  FailureOverlay(const FailureOverlay&) = delete;
  FailureOverlay& operator=(const FailureOverlay&) = delete;

  FailureResult crash_and_broadcast(double fail_percent, const StepProgress& progress = {});

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Runs one failure level: a FailureOverlay built for it, then its crash and broadcasts. `progress(phase, step)` is called after each join, round and broadcast
// if set. Throws std::invalid_argument on invalid options and std::runtime_error if the
// simulator's event bound stops a run.
FailureResult run_failure_level(const FailureParams& params, double fail_percent, const StepProgress& progress = {});

}  // namespace hypar::sim
