// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::Node: one HyParView member over real TCP, driven by C++20 coroutines on one
// asio::io_context (single-threaded: every method must be called from that context's thread).
//
// Each connection is handled by a peer supervisor coroutine (peer_ctl, overlay/node/src/peer_ctl.cpp)
// running a send coroutine and a receive coroutine side by side; when either ends, the other is
// cancelled, the socket closed, and the protocol core is told link_down. The core never waits on
// IO: connects, handshakes and timers are tasks of their own whose outcome comes back to it as an
// input.
//
//   asio::io_context io;
//   hypar::Node node(io, {.listen = *hypar::Address::parse("127.0.0.1:7001"), .name = "b"});
//   asio::co_spawn(io, [&]() -> asio::awaitable<void> {
//     hypar::JoinResult joined = co_await node.join(hypar::Seeds{{*hypar::HostPort::parse("seed:7000")}});
//     if (!joined) co_return;  // joined.failures says why each contact failed
//     for (;;) {
//       std::optional<hypar::Event> ev = co_await node.next_event();
//       if (!ev) co_return;  // the node stopped
//       if (auto* m = std::get_if<hypar::Received>(&*ev)) co_await node.send(m->peer.address, m->bytes);
//     }
//   }, asio::detached);
//   io.run();
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/hyparview/options.hpp"
#include "hypar/node/contacts.hpp"
#include "hypar/node/event_batch.hpp"
#include "hypar/node/events.hpp"
#include "hypar/node/metrics.hpp"
#include "hypar/node/subscription.hpp"
#include "hypar/peer_id.hpp"
#include "hypar/runtime/runtime.hpp"
#include "hypar/time.hpp"
#include "hypar/transport/connection.hpp"
#include "hypar/transport/handshake_limits.hpp"
#include "hypar/transport/tls.hpp"

namespace hypar {

struct NodeConfig {
  Address listen;                    // where this node accepts connections (bind address)
  // The address peers know this node by (its identity), when it differs from `listen`: required
  // when `listen` is a wildcard (0.0.0.0, [::]); port 0 means the port actually bound. Default:
  // `listen` itself (with the port actually bound).
  std::optional<Address> advertise;
  // A directory where the node keeps its incarnation, views and contacts across restarts
  // (hypar/node/saved_state.hpp); empty: nothing is kept. It must be writable.
  std::string state_dir;
  Duration state_save_interval = seconds(2);  // at most one write per interval, only when changed
  std::string name;                  // shown in logs and to peers (at most 64 bytes)
  // Advertised to every neighbour in the handshake (e.g. the endpoint of the application's own
  // service) and delivered with their LinkUp; limits in hypar/metadata.hpp (invalid_argument).
  Metadata metadata{};
  hyparview::Options options{};      // protocol parameters (hyparerl's defaults)
  // The protocol's timers (keepalive ticks, shuffles, NEIGHBOR deadlines) fire up to this late, at
  // multiples of it, so that many nodes on one event loop share wake-ups; capped at 1/16 of the
  // shortest of keepalive_interval and neighbor_timeout. 0: each timer at its own deadline.
  Duration timer_slack = milliseconds(20);
  std::string secret;                // cluster secret; empty: no authentication
  // Older or newer secrets also accepted in a peer's proof (never used to prove), to roll the
  // secret node by node (docs/protocol.md); requires `secret`.
  std::vector<std::string> accepted_secrets;
  std::uint32_t max_frame_size = 1u << 20;   // larger frames from a peer close its connection
  std::size_t send_queue_limit = 8192;       // application frames queued per peer
  std::size_t event_queue_limit = 65536;     // undelivered events before receiving pauses
  std::size_t event_queue_byte_limit = 32u << 20;  // or undelivered message bytes reach this
  // TCP connect, and the HELLO (and AUTH) exchange. Time the node's own event loop ran late at the
  // deadline (a stall: the answer may be unread) is not counted, once: at most twice the timeout
  // plus that lag (hypar::with_timeout_excluding_lag).
  Duration connect_timeout = seconds(2);
  Duration handshake_timeout = seconds(2);
  // Caps on inbound connections still in their handshake, in all and per source address
  // (hypar/transport/handshake_limits.hpp); one accepted over a cap is closed at once.
  transport::HandshakeLimits handshake_limits{};
  // TLS 1.3 with mutual authentication on every connection (hypar/transport/tls.hpp): this node's
  // certificate chain and key, the CA bundle a peer's chain must end at, and whether the peer's
  // certificate must name its address. nullopt: plaintext. A TLS node and a plaintext node never
  // link. The files are read by the constructor (transport::TlsError when one cannot be used).
  std::optional<transport::TlsOptions> tls;
  // 0: microseconds since the epoch at start, and above the saved one when state_dir has one
  std::uint64_t incarnation = 0;
  std::uint64_t seed = 0;            // protocol RNG seed; 0: random
  // Where to serve GET /metrics (Prometheus), /status (JSON) and / (the status page) over HTTP;
  // none: no endpoint. Port 0 picks a free port (Node::metrics_address() tells which).
  std::optional<Address> metrics_listen;
  // Makes the node's transport; empty: transport::make_default_transport (TCP over io_uring where
  // it works, else epoll, logged once). Tests pass an in-memory network's transport.
  std::function<std::unique_ptr<transport::Transport>(const asio::any_io_executor&)> make_transport;
};

class Node {
 public:
  // Binds and listens on config.listen (port 0 picks a free port; id() tells which).
  // Throws std::system_error when it cannot listen, std::invalid_argument on bad options (a
  // wildcard listen address without an advertise address included), std::runtime_error when the
  // state directory is not writable.
  Node(asio::io_context& io, NodeConfig config);
  // The same on one shard of a Runtime. Construct it before runtime.run() or on that shard's
  // thread; afterwards call its methods only from that shard (spawn or post there).
  Node(Runtime& runtime, NodeConfig config, std::size_t shard = 0);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const PeerId& id() const;
  // The executor of the io_context the node runs on: layers built on the node (e.g.
  // hypar::Broadcaster) start their coroutines there.
  asio::any_io_executor get_executor() const;
  // The largest message try_send/send accept (NodeConfig::max_frame_size minus the frame's type
  // byte); longer ones return SendResult::too_large.
  std::size_t max_message_size() const;

  // Joins through the first contact that answers (tried in order), then through the peers of the
  // saved state (NodeConfig::state_dir). The result converts to true when joined; otherwise it
  // lists every contact that failed and why ("refused", "unreachable", "timed_out",
  // "handshake: ...", "resolve: ..."), and the node keeps retrying in the background with backoff.
  asio::awaitable<JoinResult> join(std::vector<Address> contacts);
  // The same with names, SRV names and contact files (hypar/node/contacts.hpp), resolved without
  // blocking now and again at every re-join attempt. Seeds{} joins through the saved peers only.
  asio::awaitable<JoinResult> join(Seeds seeds);
  // Peers of the saved state (active, then passive, then its contacts): a node restarted with
  // them can join(Seeds{}) without being given any contact.
  std::vector<Address> saved_contacts() const;

  std::vector<PeerId> peers() const;          // the active view
  std::vector<PeerId> passive_peers() const;  // the passive view
  // What an active peer advertised (its LinkUp carried the same); empty for any other address.
  Metadata metadata_of(const Address& peer) const;

  // Queues `bytes` for an active peer. try_send never waits; send waits while the peer's queue
  // is full (backpressure) and fails only if the peer goes away or the node stops. Senders are
  // served in turn: while a send() waits for space on a peer, try_send to it returns queue_full
  // and a new send() waits behind it, so one flooding sender cannot starve another. Messages to
  // one peer are coalesced into one write per loop pass; sending to the same peer as the
  // previous call needs no lookup.
  SendResult try_send(const Address& peer, std::span<const std::uint8_t> bytes);
  asio::awaitable<SendResult> send(const Address& peer, std::span<const std::uint8_t> bytes);

  // The next event; waits when there is none. After leave(), pending events still drain; once
  // the node has stopped and none is left, nullopt (an expected outcome, not an exception: see
  // "Errors" in docs/api.md). poll_event never waits: nullopt when none is pending.
  asio::awaitable<std::optional<Event>> next_event();
  std::optional<Event> poll_event();
  // Every pending event at once, in order, into `batch` (replacing what it held): the fast path,
  // with no allocation per message (see EventBatch). next_events waits while there is none; it
  // returns false (batch emptied) once the node has stopped and none is left. poll_events returns
  // how many it took (0: none, batch emptied).
  asio::awaitable<bool> next_events(EventBatch& batch);
  std::size_t poll_events(EventBatch& batch);

  // A new, independent stream of the active view's changes (hypar/node/subscription.hpp): it
  // starts with the current active view as LinkUps, then every LinkUp / LinkDown in order, in a
  // buffer of `capacity` events (raised to options.active_size + 2 if smaller). A subscriber
  // that falls behind gets Lagged and a fresh snapshot, never slowing the node. Any number may
  // exist; each unregisters when closed or destroyed. Independent of next_event(s).
  MembershipSubscription subscribe(std::size_t capacity = kDefaultSubscriptionCapacity);

  // Operations (hypar/node/metrics.hpp, docs/operations.md): the counters and gauges of the
  // moment, the active links with their age, traffic and queue, and the HTTP endpoint's address
  // (nullopt without NodeConfig::metrics_listen).
  NodeMetrics metrics() const;
  std::vector<LinkInfo> links() const;
  std::optional<Address> metrics_address() const;
  // Adds a layer's metrics to the node's endpoint; returns a handle for remove_metrics_source.
  std::uint64_t add_metrics_source(MetricsSource source);
  void remove_metrics_source(std::uint64_t handle);

  // Re-reads NodeConfig::tls's files (certificate, key, CA) for the connections made from now on;
  // links already up stay up. Throws transport::TlsError (keeping the current files' configuration)
  // when they cannot be used, std::logic_error when the node runs without TLS.
  void reload_tls();

  // Graceful leave: DISCONNECT(alive=false) to every active peer, flush, close every connection.
  // With a state directory, the views are saved first.
  asio::awaitable<void> leave();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;  // shared with the node's coroutines, which may outlive ~Node briefly
};

}  // namespace hypar
