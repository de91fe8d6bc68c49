// SPDX-License-Identifier: Apache-2.0
#include "hypar/hyparview/membership_metrics.hpp"

#include <string>

namespace hypar::hyparview {

const char* result_name(NeighborResult result) {
  switch (result) {
    case NeighborResult::accepted: return "accepted";
    case NeighborResult::rejected: return "rejected";
    case NeighborResult::timed_out: return "timed_out";
    case NeighborResult::failed: return "failed";
  }
  return "unknown";
}

void MembershipCounters::on_sent(const Address& self, const Address& to, const Message& message) {
  ++sent[message.index()];
  if (const auto* shuffle = std::get_if<Shuffle>(&message); shuffle && shuffle->origin.address == self) ++shuffles;
  if (std::holds_alternative<Join>(message)) ++join_attempts;
  if (const auto* neighbor = std::get_if<Neighbor>(&message)) {
    if (auto it = neighbor_pending_.find(to); it != neighbor_pending_.end()) {
      settle(to, NeighborResult::failed);  // superseded by a new request (the old one got no answer)
    }
    neighbor_pending_[to] = neighbor->priority;
  }
}

void MembershipCounters::on_received(const Address& from, const Message& message) {
  ++received[message.index()];
  if (const auto* reply = std::get_if<NeighborReply>(&message)) {
    settle(from, reply->accepted ? NeighborResult::accepted : NeighborResult::rejected);
  }
}

void MembershipCounters::on_output(const Output& output) {
  if (std::holds_alternative<PeerUp>(output)) {
    ++link_up;
  } else if (const auto* down = std::get_if<PeerDown>(&output)) {
    const auto reason = static_cast<std::size_t>(down->reason);
    if (reason < link_down.size()) ++link_down[reason];
  }
}

void MembershipCounters::on_timer(const Timer& timer) {
  if (timer.kind == TimerKind::neighbor_timeout) settle(timer.peer, NeighborResult::timed_out);
}

void MembershipCounters::on_link_gone(const Address& peer) { settle(peer, NeighborResult::failed); }

void MembershipCounters::settle(const Address& peer, NeighborResult result) {
  const auto it = neighbor_pending_.find(peer);
  if (it == neighbor_pending_.end()) return;
  ++neighbor_requests[static_cast<std::size_t>(it->second)][static_cast<std::size_t>(result)];
  neighbor_pending_.erase(it);
}

void write_prometheus(prom::Families& out, const MembershipCounters& c, std::size_t active_peers,
                      std::size_t passive_peers, const prom::Labels& labels) {
  auto n = [](std::uint64_t v) { return static_cast<double>(v); };
  out.gauge("hypar_active_peers", "Peers in the active view (the links messages flow on).")
      .add(labels, n(active_peers));
  out.gauge("hypar_passive_peers", "Peers in the passive view (known spares).").add(labels, n(passive_peers));
  out.counter("hypar_link_up_total", "Peers that entered the active view.").add(labels, n(c.link_up));
  auto& down = out.counter("hypar_link_down_total",
                           "Peers that left the active view, by reason (graceful, failed, evicted, timed_out).");
  for (std::size_t r = 0; r < c.link_down.size(); ++r) {
    const std::string name = reason_name(static_cast<DownReason>(r));
    if (name != "unknown") down.add(prom::with(labels, "reason", name), n(c.link_down[r]));
  }
  auto& sent = out.counter("hypar_messages_sent_total", "Messages handed to a link, by type (data: application messages).");
  auto& received = out.counter("hypar_messages_received_total", "Messages received on a link, by type.");
  static constexpr const char* kTypes[] = {"join",       "forward_join", "neighbor",      "neighbor_reply",
                                           "disconnect", "shuffle",      "shuffle_reply", "keepalive"};
  static_assert(std::size(kTypes) == kMessageTypes);
  for (std::size_t t = 0; t < kMessageTypes; ++t) {
    sent.add(prom::with(labels, "type", kTypes[t]), n(c.sent[t]));
    received.add(prom::with(labels, "type", kTypes[t]), n(c.received[t]));
  }
  out.counter("hypar_shuffles_total", "Shuffles this node started.").add(labels, n(c.shuffles));
  out.counter("hypar_join_attempts_total", "JOIN requests sent to a contact.").add(labels, n(c.join_attempts));
  auto& neighbor = out.counter("hypar_neighbor_requests_total",
                               "NEIGHBOR requests this node sent, by priority and outcome.");
  for (std::size_t p = 0; p < 2; ++p) {
    for (std::size_t r = 0; r < kNeighborResults; ++r) {
      neighbor.add(prom::with(prom::with(labels, "priority", p == 0 ? "low" : "high"), "result",
                              result_name(static_cast<NeighborResult>(r))),
                   n(c.neighbor_requests[p][r]));
    }
  }
}

}  // namespace hypar::hyparview
