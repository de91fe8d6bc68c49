// SPDX-License-Identifier: Apache-2.0
// The node's counters as a snapshot, in Prometheus families and in JSON, and the Node API around them.
#include "hypar/node/metrics.hpp"

#include <algorithm>

#include "node_impl.hpp"

namespace hypar {

const char* refusal_name(HandshakeRefusal reason) {
  static constexpr const char* kNames[] = {
      "frame_too_large", "bad_frame", "closed",       "not_hello", "malformed_hello", "bad_magic",         "bad_version",
      "self_address",    "auth_mismatch", "bad_auth", "wrong_secret", "timeout",      "stale_incarnation", "io_error",
      "handshake_limit", "source_limit", "tls"};
  static_assert(std::size(kNames) == kHandshakeRefusals);
  return kNames[static_cast<std::size_t>(reason)];
}

const char* failure_name(ConnectFailure reason) {
  static constexpr const char* kNames[] = {"timeout", "error", "handshake", "wrong_identity"};
  static_assert(std::size(kNames) == kConnectFailures);
  return kNames[static_cast<std::size_t>(reason)];
}

const char* violation_name(ProtocolViolation reason) {
  static constexpr const char* kNames[] = {"frame_error", "malformed_message", "unexpected_frame"};
  static_assert(std::size(kNames) == kProtocolViolations);
  return kNames[static_cast<std::size_t>(reason)];
}

void write_prometheus(prom::Families& out, const NodeMetrics& m, const prom::Labels& labels) {
  const NodeCounters& c = m.counters;
  auto n = [](auto v) { return static_cast<double>(v); };
  hyparview::write_prometheus(out, c.membership, m.active_peers, m.passive_peers, labels);
  out.counter("hypar_messages_sent_total", "").add(prom::with(labels, "type", "data"), n(c.data_sent));
  out.counter("hypar_messages_received_total", "").add(prom::with(labels, "type", "data"), n(c.data_received));
  out.counter("hypar_bytes_sent_total", "Bytes written on links after the handshake, frame headers included.")
      .add(labels, n(c.bytes_sent));
  out.counter("hypar_bytes_received_total", "Bytes read on links after the handshake.").add(labels, n(c.bytes_received));
  out.counter("hypar_send_queue_full_total", "Sends that found the peer's send queue full.")
      .add(labels, n(c.send_queue_full));
  out.counter("hypar_connections_accepted_total", "TCP connections accepted.").add(labels, n(c.connections_accepted));
  out.counter("hypar_connections_dialled_total", "TCP connections this node attempted.")
      .add(labels, n(c.connections_dialled));
  auto& connect = out.counter("hypar_connect_failures_total", "Dialled connections that did not become a link, by reason.");
  for (std::size_t r = 0; r < kConnectFailures; ++r) {
    connect.add(prom::with(labels, "reason", failure_name(static_cast<ConnectFailure>(r))), n(c.connect_failures[r]));
  }
  auto& refusals = out.counter("hypar_handshake_refusals_total", "Connections closed during the handshake, by reason.");
  for (std::size_t r = 0; r < kHandshakeRefusals; ++r) {
    refusals.add(prom::with(labels, "reason", refusal_name(static_cast<HandshakeRefusal>(r))),
                 n(c.handshake_refusals[r]));
  }
  auto& violations = out.counter("hypar_protocol_violations_total",
                                 "Established connections closed for breaking the protocol, by reason.");
  for (std::size_t r = 0; r < kProtocolViolations; ++r) {
    violations.add(prom::with(labels, "reason", violation_name(static_cast<ProtocolViolation>(r))),
                   n(c.protocol_violations[r]));
  }
  out.gauge("hypar_send_queue_max_messages", "The most application messages queued for one peer.")
      .add(labels, n(m.send_queue_max_messages));
  out.gauge("hypar_send_queue_max_bytes", "The most bytes queued for one peer.").add(labels, n(m.send_queue_max_bytes));
  out.gauge("hypar_event_queue_depth", "Events the application has not taken yet.").add(labels, n(m.event_queue_depth));
  out.gauge("hypar_inbound_handshakes", "Inbound connections in their handshake now.")
      .add(labels, n(m.inbound_handshakes));
  out.counter("hypar_subscriber_lags_total", "Times a membership subscriber fell behind and got a snapshot.")
      .add(labels, n(c.subscriber_lags));
  out.gauge("hypar_membership_subscribers", "Open membership subscriptions.").add(labels, n(m.membership_subscribers));
  out.gauge("hypar_uptime_seconds", "Seconds since the node started.")
      .add(labels, std::chrono::duration<double>(m.uptime).count());
}

void write_json(JsonWriter& j, const NodeMetrics& m) {
  const NodeCounters& c = m.counters;
  const auto& ms = c.membership;
  j.begin_object();
  j.key("active_peers").value(std::uint64_t{m.active_peers});
  j.key("passive_peers").value(std::uint64_t{m.passive_peers});
  j.key("link_up").value(ms.link_up);
  j.key("link_down").begin_object();
  for (std::size_t r = 0; r < ms.link_down.size(); ++r) {
    const std::string name = hyparview::reason_name(static_cast<DownReason>(r));
    if (name != "unknown") j.key(name).value(ms.link_down[r]);
  }
  j.end_object();
  std::uint64_t control_sent = 0, control_received = 0;
  for (const auto v : ms.sent) control_sent += v;
  for (const auto v : ms.received) control_received += v;
  j.key("messages_sent").value(c.data_sent + control_sent);
  j.key("messages_received").value(c.data_received + control_received);
  j.key("data_sent").value(c.data_sent);
  j.key("data_received").value(c.data_received);
  j.key("bytes_sent").value(c.bytes_sent);
  j.key("bytes_received").value(c.bytes_received);
  j.key("send_queue_full").value(c.send_queue_full);
  j.key("shuffles").value(ms.shuffles);
  j.key("join_attempts").value(ms.join_attempts);
  j.key("connect_failures").begin_object();
  for (std::size_t r = 0; r < kConnectFailures; ++r) j.key(failure_name(static_cast<ConnectFailure>(r))).value(c.connect_failures[r]);
  j.end_object();
  j.key("handshake_refusals").begin_object();
  for (std::size_t r = 0; r < kHandshakeRefusals; ++r) {
    j.key(refusal_name(static_cast<HandshakeRefusal>(r))).value(c.handshake_refusals[r]);
  }
  j.end_object();
  j.key("send_queue_max_messages").value(std::uint64_t{m.send_queue_max_messages});
  j.key("event_queue_depth").value(std::uint64_t{m.event_queue_depth});
  j.key("inbound_handshakes").value(std::uint64_t{m.inbound_handshakes});
  j.key("membership_subscribers").value(std::uint64_t{m.membership_subscribers});
  j.key("subscriber_lags").value(c.subscriber_lags);
  j.end_object();
}

NodeMetrics Node::Impl::snapshot() const {
  NodeMetrics m;
  m.counters = counters;
  m.active_peers = core.active_view().size();
  m.passive_peers = core.passive_view().size();
  for (const auto& [address, peer] : peers) {
    m.send_queue_max_messages = std::max(m.send_queue_max_messages, peer->data_frames);
    m.send_queue_max_bytes = std::max(m.send_queue_max_bytes, peer->data.size() + peer->control.size());
  }
  m.event_queue_depth = events.size();
  m.inbound_handshakes = admission.in_progress();
  m.membership_subscribers = membership->subscribers();
  m.uptime = now() - started;
  return m;
}

std::vector<LinkInfo> Node::Impl::link_infos() const {
  std::vector<LinkInfo> out;
  const Instant t = now();
  for (const auto& active : core.active_view()) {
    LinkInfo info;
    info.peer = active;
    if (const auto it = peers.find(active.address); it != peers.end()) {
      const Peer& p = *it->second;
      info.age = t - p.since;
      info.bytes_sent = p.bytes_sent;
      info.bytes_received = p.bytes_received;
      info.queued_messages = p.data_frames;
      info.queued_bytes = p.data.size() + p.control.size();
      info.dialled_by_us = p.primary && p.primary->dialled_by_us;
    }
    out.push_back(std::move(info));
  }
  return out;
}

NodeMetrics Node::metrics() const { return impl_->snapshot(); }
std::vector<LinkInfo> Node::links() const { return impl_->link_infos(); }

std::optional<Address> Node::metrics_address() const {
  if (!impl_->ops_endpoint) return std::nullopt;
  return impl_->ops_endpoint->local_address();
}

std::uint64_t Node::add_metrics_source(MetricsSource source) {
  const std::uint64_t handle = impl_->next_metrics_source++;
  impl_->metrics_sources.emplace_back(handle, std::move(source));
  return handle;
}

void Node::remove_metrics_source(std::uint64_t handle) {
  std::erase_if(impl_->metrics_sources, [&](const auto& entry) { return entry.first == handle; });
}

}  // namespace hypar
