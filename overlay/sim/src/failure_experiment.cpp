// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/failure_experiment.hpp"

#include <memory>
#include <stdexcept>

#include "hypar/rng.hpp"
#include "hypar/sim/flood_sim.hpp"
#include "hypar/sim/health.hpp"
#include "hypar/sim/partition.hpp"
#include "hypar/sim/plumtree_sim.hpp"
#include "hypar/sim/scenarios.hpp"
#include "hypar/sim/simulator.hpp"

namespace hypar::sim {
namespace {

// Streams of the master seed for the crash and the senders (the nodes use streams 0..N-1).
constexpr std::uint64_t kCrashStream = 0xfa11;
constexpr std::uint64_t kSenderStream = 0xf100d;

std::size_t random_live(const Simulator& sim, Rng& rng) {
  for (;;) {
    const std::size_t node = rng.index(sim.size());
    if (sim.alive(node)) return node;
  }
}

// No live node in its active view: a flood from it reaches nobody, and none reaches it.
bool stranded(const Simulator& sim, std::size_t node) {
  for (const std::size_t peer : sim.active_view(node)) {
    if (sim.alive(peer)) return false;
  }
  return true;
}

// No live node in either view.
bool orphaned(const Simulator& sim, std::size_t node) {
  if (!stranded(sim, node)) return false;
  for (const std::size_t peer : sim.passive_view(node)) {
    if (sim.alive(peer)) return false;
  }
  return true;
}

// Live nodes for which `is(sim, node)` holds.
std::size_t count_live(const Simulator& sim, bool (*is)(const Simulator&, std::size_t)) {
  std::size_t count = 0;
  for (std::size_t node = 0; node < sim.size(); ++node) count += sim.alive(node) && is(sim, node);
  return count;
}

}  // namespace

struct FailureOverlay::State {
  explicit State(const FailureParams& p) : params(p), sim(config_of(p)) {}

  static Config config_of(const FailureParams& params) {
    Config config;
    config.seed = params.seed;
    config.options = params.options;
    config.options.keepalive_interval = Duration::zero();
    config.crash_notice = params.crash_notice;
    config.latency_min = params.latency_min;
    config.latency_max = params.latency_max;
    return config;
  }

  FailureParams params;
  Simulator sim;
  // One of the two rides on the simulator, attached before any node exists.
  std::unique_ptr<FloodSim> flood;
  std::unique_ptr<PlumtreeSim> plumtree;
  bool crashed = false;
};

FailureOverlay::FailureOverlay(const FailureParams& params, const StepProgress& progress)
    : state_(std::make_unique<State>(params)) {
  if (params.broadcast == Broadcast::plumtree) {
    state_->plumtree = std::make_unique<PlumtreeSim>(state_->sim, params.plumtree, params.seed);
  } else {
    state_->flood = std::make_unique<FloodSim>(state_->sim);
  }
  if (!build_overlay(state_->sim, params.nodes, params.rounds, params.join_interval, progress)) {
    throw std::runtime_error("the simulator's event bound stopped the run");
  }
}

FailureOverlay::~FailureOverlay() = default;

FailureResult FailureOverlay::crash_and_broadcast(double fail_percent, const StepProgress& progress) {
  if (state_->crashed) throw std::logic_error("FailureOverlay::crash_and_broadcast runs once per overlay");
  state_->crashed = true;
  const FailureParams& params = state_->params;
  Simulator& sim = state_->sim;
  const std::unique_ptr<FloodSim>& flood = state_->flood;
  const std::unique_ptr<PlumtreeSim>& plumtree = state_->plumtree;
  Rng crash_rng(mix_seed(params.seed, kCrashStream));
  kill_percent(sim, fail_percent, crash_rng);
  sim.hold_timers(hyparview::TimerKind::shuffle);

  FailureResult result;
  result.fail_percent = fail_percent;
  result.alive = sim.alive_count();
  result.orphaned_at_crash = count_live(sim, orphaned);
  if (result.alive == 0) return result;
  Rng sender_rng(mix_seed(params.seed, kSenderStream));
  double sum = 0;
  for (std::uint64_t m = 1; m <= params.messages; ++m) {
    const std::size_t sender = random_live(sim, sender_rng);
    if (stranded(sim, sender)) ++result.stranded_senders;
    double reliability = 0;
    bool full = false;
    if (plumtree) {
      const RoundResult r = broadcast_round(sim, *plumtree, sender, params.round_length);
      reliability = r.metrics.reliability;
      full = reliability >= 100.0;
      const BroadcastRecord& record = plumtree->records()[r.record];
      if (record.last_delivery_at - record.sent_at >= params.round_length) ++result.late_messages;
    } else {
      flood->broadcast(sender);
      if (!sim.run_for(params.round_length)) throw std::runtime_error("the simulator's event bound stopped the run");
      reliability = flood->reliability();
      full = flood->reached() == sim.alive_count();
    }
    result.reliability.push_back(reliability);
    sum += reliability;
    if (result.msgs_until_full == 0 && full) result.msgs_until_full = m;
    if (progress) progress("message", m);
  }
  result.avg_reliability = sum / static_cast<double>(params.messages);
  if (flood) result.late_messages = flood->late_messages();
  result.anomalies = sim.anomalies();
  result.cut_off_at_end = result.alive - largest_component(sim);
  result.stranded_at_end = count_live(sim, stranded);
  return result;
}

FailureResult run_failure_level(const FailureParams& params, double fail_percent, const StepProgress& progress) {
  FailureOverlay overlay(params, progress);
  return overlay.crash_and_broadcast(fail_percent, progress);
}

}  // namespace hypar::sim
