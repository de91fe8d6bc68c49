// SPDX-License-Identifier: Apache-2.0
#pragma once
// What a hypar::Node counts, and the snapshot Node::metrics() returns. Counting is plain integers
// on the node's own thread (no locks, no atomics): a few increments per message on the data path,
// per write/read for bytes. docs/operations.md lists every exported metric.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hypar/hyparview/membership_metrics.hpp"
#include "hypar/json_writer.hpp"
#include "hypar/peer_id.hpp"
#include "hypar/prometheus_text.hpp"
#include "hypar/time.hpp"

namespace hypar {

// Why the HELLO/AUTH handshake of a connection was refused (either direction).
enum class HandshakeRefusal : std::uint8_t {
  frame_too_large,    // the first frame's length is above max_frame_size
  bad_frame,          // an empty frame
  closed,             // the peer closed before its HELLO
  not_hello,          // the first frame is not a HELLO
  malformed_hello,    // truncated, bad field, trailing bytes
  bad_magic,          // not a hypar peer
  bad_version,        // another protocol version
  self_address,       // the peer claims this node's own address
  auth_mismatch,      // one side has a cluster secret, the other not (or a reflection)
  bad_auth,           // AUTH missing or malformed
  wrong_secret,       // AUTH proof does not match this node's secret
  timeout,            // no complete handshake within handshake_timeout
  stale_incarnation,  // an older life of a peer we know in a newer one
  io_error,           // the connection failed during the handshake
  handshake_limit,    // accepted at NodeConfig::handshake_limits.max_handshakes: closed at once
  source_limit,       // accepted at max_handshakes_per_source from its source: closed at once
  tls,                // TLS refused: unknown CA, expired, name mismatch, or a TLS/plaintext mismatch
};
inline constexpr std::size_t kHandshakeRefusals = 17;
const char* refusal_name(HandshakeRefusal reason);

// Why a connection this node dialled did not become a link.
enum class ConnectFailure : std::uint8_t {
  timeout,         // no TCP connection within connect_timeout
  error,           // refused, unreachable, reset...
  handshake,       // connected, but the handshake failed (see hypar_handshake_refusals_total)
  wrong_identity,  // another node answered at that address
};
inline constexpr std::size_t kConnectFailures = 4;
const char* failure_name(ConnectFailure reason);

// Why an established connection was closed for breaking the protocol.
enum class ProtocolViolation : std::uint8_t {
  frame_error,        // oversized or empty frame
  malformed_message,  // a HyParView message that does not decode
  unexpected_frame,   // a frame type this node does not accept after the handshake
};
inline constexpr std::size_t kProtocolViolations = 3;
const char* violation_name(ProtocolViolation reason);

// Monotonic counters of one node since it started.
struct NodeCounters {
  hyparview::MembershipCounters membership;  // views, control messages, shuffles, NEIGHBOR...
  std::uint64_t data_sent = 0;               // application messages queued on a link
  std::uint64_t data_received = 0;           // application messages received
  std::uint64_t bytes_sent = 0;              // written on links after the handshake, frame headers included
  std::uint64_t bytes_received = 0;
  std::uint64_t send_queue_full = 0;         // try_send/send found the peer's queue full
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_dialled = 0;
  std::array<std::uint64_t, kConnectFailures> connect_failures{};
  std::array<std::uint64_t, kHandshakeRefusals> handshake_refusals{};
  std::array<std::uint64_t, kProtocolViolations> protocol_violations{};
  std::uint64_t subscriber_lags = 0;         // membership subscribers that fell behind (each a Lagged)
};

// A snapshot: the counters and the gauges of the moment.
struct NodeMetrics {
  NodeCounters counters;
  std::size_t active_peers = 0;
  std::size_t passive_peers = 0;
  std::size_t send_queue_max_messages = 0;  // the most application messages queued for one peer
  std::size_t send_queue_max_bytes = 0;     // the most bytes (control and data) queued for one peer
  std::size_t event_queue_depth = 0;        // events the application has not taken yet
  std::size_t inbound_handshakes = 0;       // inbound connections in their handshake now
  std::size_t membership_subscribers = 0;   // open Node::subscribe() subscriptions
  Duration uptime{};
};

// One link of the active view, for /status.
struct LinkInfo {
  PeerId peer;
  Duration age{};                  // since the link came up
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::size_t queued_messages = 0;  // application messages waiting in its send queue
  std::size_t queued_bytes = 0;
  bool dialled_by_us = false;
};

// Adds the node's families to `out` (every sample with `labels`).
void write_prometheus(prom::Families& out, const NodeMetrics& metrics, const prom::Labels& labels = {});
// The counters as one JSON object (for /status).
void write_json(JsonWriter& out, const NodeMetrics& metrics);

// A layer on the node (e.g. Broadcaster) adds its own metrics to the node's endpoint with
// Node::add_metrics_source: `prometheus` adds families, `status` writes one JSON value shown
// under its `name` in /status. Both run on the node's thread, when a page is requested.
struct MetricsSource {
  std::string name;
  std::function<void(prom::Families&)> prometheus;
  std::function<void(JsonWriter&)> status;
};

}  // namespace hypar
