// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/plumtree_sim.hpp"

#include <stdexcept>
#include <string>

#include "hypar/plumtree/codec.hpp"

namespace hypar::sim {

PlumtreeSim::PlumtreeSim(Simulator& sim, plumtree::Options options, std::uint64_t seed)
    : sim_(sim), options_(std::move(options)), seed_(seed) {
  if (const auto problems = options_.validate(); !problems.empty()) {
    throw std::invalid_argument("invalid Plumtree options: " + problems.front());
  }
  if (sim_.size() != 0) throw std::logic_error("PlumtreeSim needs a simulator without nodes");
  sim_.attach(this);
}

PlumtreeSim::~PlumtreeSim() { sim_.attach(nullptr); }

std::variant<std::size_t, plumtree::BroadcastError> PlumtreeSim::broadcast(std::size_t node,
                                                                           std::vector<std::uint8_t> payload) {
  if (!sim_.alive(node)) throw std::logic_error("broadcast from a dead node");
  const auto result = core_of(node).broadcast(std::move(payload), sim_.now());
  if (!result.ok()) return result.error();
  BroadcastRecord record;
  record.id = result.id();
  record.sender = node;
  record.sent_at = sim_.now();
  record.delivered.assign(sim_.size(), 0);
  records_.push_back(std::move(record));
  record_of_[result.id()] = records_.size() - 1;
  drain(node);  // the sender's own delivery lands in the new record
  return records_.size() - 1;
}

BroadcastMetrics PlumtreeSim::metrics(std::size_t index) const {
  const BroadcastRecord& r = records_.at(index);
  std::size_t live_delivered = 0;
  for (std::size_t node = 0; node < r.delivered.size(); ++node) {
    if (r.delivered[node] != 0 && sim_.alive(node)) ++live_delivered;
  }
  BroadcastMetrics m;
  const std::size_t live = sim_.alive_count();
  m.reliability = live == 0 ? 0.0 : 100.0 * static_cast<double>(live_delivered) / static_cast<double>(live);
  m.rmr = r.reached <= 1 ? 0.0
                         : static_cast<double>(r.payload_msgs) / static_cast<double>(r.reached - 1) - 1.0;
  m.ldh = r.last_delivery_hops;
  m.payload_msgs = r.payload_msgs;
  return m;
}

const plumtree::Core* PlumtreeSim::core(std::size_t node) const {
  return node < cores_.size() ? cores_[node].get() : nullptr;
}

// ---------------------------------------------------------------- UpperLayer

void PlumtreeSim::on_app_event(std::size_t node, const hyparview::Output& event, Instant now) {
  if (const auto* up = std::get_if<hyparview::PeerUp>(&event)) {
    core_of(node).neighbor_up(up->peer.address, now);
  } else if (const auto* down = std::get_if<hyparview::PeerDown>(&event)) {
    core_of(node).neighbor_down(down->peer.address, now);
  } else {
    return;
  }
  drain(node);
}

void PlumtreeSim::on_app_message(std::size_t node, std::size_t from, std::span<const std::uint8_t> bytes,
                                 Instant now) {
  auto decoded = plumtree::decode(bytes);
  if (!decoded) {
    ++decode_errors_;
    return;
  }
  const plumtree::Message& message = decoded.message();
  if (const auto* gossip = std::get_if<plumtree::Gossip>(&message)) {
    ++payload_msgs_;
    if (auto it = record_of_.find(gossip->id); it != record_of_.end()) ++records_[it->second].payload_msgs;
  } else {
    ++control_msgs_;
  }
  core_of(node).received(sim_.address_of(from), message, now);
  drain(node);
}

void PlumtreeSim::on_app_timer(std::size_t node, std::uint64_t cookie, Instant now) {
  const plumtree::Timer timer = timers_.at(cookie);
  free_timers_.push_back(cookie);
  core_of(node).timer_fired(timer, now);
  drain(node);
}

// ---------------------------------------------------------------- plumbing

plumtree::Core& PlumtreeSim::core_of(std::size_t node) {
  if (cores_.size() <= node) cores_.resize(sim_.size());
  auto& core = cores_.at(node);
  if (!core) {
    core = std::make_unique<plumtree::Core>(sim_.address_of(node), options_, mix_seed(seed_, node));
  }
  return *core;
}

void PlumtreeSim::drain(std::size_t node) {
  for (plumtree::Output& output : cores_[node]->take_outputs()) {
    if (auto* send = std::get_if<plumtree::Send>(&output)) {
      buffer_.clear();
      plumtree::encode(send->message, buffer_);
      sim_.send_app(node, send->to, buffer_);
    } else if (auto* deliver = std::get_if<plumtree::Deliver>(&output)) {
      record_delivery(node, *deliver);
    } else if (auto* timer = std::get_if<plumtree::ScheduleTimer>(&output)) {
      std::uint64_t cookie;
      if (!free_timers_.empty()) {
        cookie = free_timers_.back();
        free_timers_.pop_back();
        timers_[cookie] = timer->timer;
      } else {
        cookie = timers_.size();
        timers_.push_back(timer->timer);
      }
      sim_.schedule_app_timer(node, timer->at, cookie);
    }
  }
}

void PlumtreeSim::record_delivery(std::size_t node, const plumtree::Deliver& deliver) {
  auto it = record_of_.find(deliver.id);
  if (it == record_of_.end()) {
    ++unknown_deliveries_;
    return;
  }
  BroadcastRecord& r = records_[it->second];
  if (r.delivered.size() <= node) r.delivered.resize(sim_.size(), 0);
  if (r.delivered[node] == 0) {
    ++r.reached;
  } else {
    ++r.duplicate_deliveries;
  }
  if (r.delivered[node] < 255) ++r.delivered[node];
  r.last_delivery_hops = deliver.hops;
  r.last_delivery_at = sim_.now();
}

// ---------------------------------------------------------------- scenario

RoundResult broadcast_round(Simulator& sim, PlumtreeSim& plumtree, std::size_t sender, Duration round_length) {
  const std::uint64_t control_before = plumtree.control_msgs();
  const std::size_t n = plumtree.records().size();
  // A payload that names its round, so that content-hash ids differ too.
  std::vector<std::uint8_t> payload(16, 0);
  for (std::size_t i = 0; i < 8; ++i) payload[i] = static_cast<std::uint8_t>(n >> (8 * i));
  const auto sent = plumtree.broadcast(sender, std::move(payload));
  if (!std::holds_alternative<std::size_t>(sent)) {
    throw std::runtime_error(std::string("broadcast refused: ") + plumtree::describe(std::get<plumtree::BroadcastError>(sent)));
  }
  if (!sim.run_for(round_length)) throw std::runtime_error("the simulator's event bound stopped the run");
  RoundResult result;
  result.record = std::get<std::size_t>(sent);
  result.metrics = plumtree.metrics(result.record);
  result.control_msgs = plumtree.control_msgs() - control_before;
  result.duplicate_deliveries = plumtree.records()[result.record].duplicate_deliveries;
  return result;
}

}  // namespace hypar::sim
