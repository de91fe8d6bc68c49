// SPDX-License-Identifier: Apache-2.0
#pragma once
// Node internals shared by node.cpp (API and the core driver), peer_connect.cpp (establishing
// connections) and peer_ctl.cpp (the per-connection supervisor). Links and connections: peer.hpp.
#include <asio/io_context.hpp>
#include "hypar/runtime/clock_timer.hpp"
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "hypar/driver/core_timers.hpp"
#include "hypar/http/server.hpp"
#include "hypar/hyparview/core.hpp"
#include "hypar/node/event_batch.hpp"
#include "hypar/node/node.hpp"
#include "hypar/node/resolve.hpp"
#include "hypar/node/saved_state.hpp"
#include "hypar/runtime/notifier.hpp"
#include "hypar/runtime/task_group.hpp"
#include "hypar/transport/auth.hpp"
#include "hypar/transport/connection.hpp"
#include "hypar/transport/frame.hpp"
#include "hypar/transport/handshake_limits.hpp"
#include "membership_hub.hpp"
#include "peer.hpp"

namespace hypar {

struct Node::Impl : std::enable_shared_from_this<Node::Impl> {
  Impl(asio::io_context& io, NodeConfig config);
  void start();     // listen, start the core and the accept and timer loops
  void shutdown();  // close everything and cancel every task of the node
  // Starts `task` in the node's task group; an unexpected exception ending it is logged.
  void spawn(asio::awaitable<void> task, const char* what);

  // ---- core driver (node.cpp) ----
  void pump();  // carries out every output the core produced
  std::size_t pump_depth = 0;                           // pump() may run inside pump() (lose)
  std::vector<std::shared_ptr<Peer>> control_to_flush;  // peers given control frames by this pump
  void apply(hyparview::Output& output);
  void membership_changed() { ++membership_epoch; }
  Instant now() const { return Clock::now(); }
  asio::awaitable<void> timer_loop();

  // ---- establishing connections (peer_connect.cpp) ----
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> dial(std::shared_ptr<Peer> peer);
  asio::awaitable<void> inbound(std::shared_ptr<Conn> conn, transport::HandshakeAdmission::Ticket slot);
  void admit(std::unique_ptr<transport::Connection> io_conn);  // an accepted connection: within the caps?
  void refused_at_cap(transport::HandshakeAdmission::Verdict verdict, const std::string& remote);
  void log_inbound_refusal(const Conn& conn, const std::string& why);
  // Exchanges HELLO (and AUTH): the peer's identity, or why the handshake failed.
  struct Handshake {
    std::optional<PeerId> id;
    std::string failure;
  };
  asio::awaitable<Handshake> handshake(Conn& conn);
  void attach(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Conn>& conn, const PeerId& id);
  // ---- running connections (peer_ctl.cpp) ----
  // The supervisor of one connection: receives until the connection ends, then conn_ended.
  asio::awaitable<void> peer_ctl(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn);
  // Writing: a writer runs on the Peer's writer connection while frames are queued (kick_writer
  // starts it); settle_connections applies role and state changes; end_send shuts one down.
  // Control frames queued during a pump are written when it ends (flush_control): each peer's
  // in one write, at once if the socket takes them, else by a writer.
  void kick_writer(Peer& peer);
  void flush_control(const std::shared_ptr<Peer>& peer);
  void settle_connections(const std::shared_ptr<Peer>& peer);
  asio::awaitable<void> write_queued(std::shared_ptr<Peer> peer, std::shared_ptr<Conn> conn);
  void end_send(const std::shared_ptr<Conn>& conn);
  void conn_ended(const std::shared_ptr<Peer>& peer, const std::shared_ptr<Conn>& conn);
  bool handle_frame(const std::shared_ptr<Peer>& peer, std::span<const std::uint8_t> payload);
  void lose(const std::shared_ptr<Peer>& peer);
  void queue_control(Peer& peer, const hyparview::Message& message);
  SendResult queue_data(Peer& peer, std::span<const std::uint8_t> bytes);
  // The Peer of an active link to `address` (its messages flow), or nullptr. Cached: a node sending
  // stream after stream to one peer finds it without a lookup.
  Peer* active_peer(const Address& address);
  bool carries_data(Peer& peer);
  std::shared_ptr<Peer> make_peer(const Address& address, PeerState initial);

  // ---- contacts, re-joins and saved state (join.cpp) ----
  asio::awaitable<JoinResult> join(Seeds seeds);
  asio::awaitable<resolve::Resolution> resolve_contacts();  // the seeds, then the saved peers
  bool contacts_need_resolving() const;
  // The core's re-join timer `token`, fired at `at` after resolving the contacts again. (Not the
  // Timer itself: GCC 12 cannot copy an Address, which holds an array, into a coroutine frame.)
  asio::awaitable<void> rejoin_after(std::uint64_t token, Instant at);
  // Resolution gave no address to join through: resolve again with backoff until one appears.
  asio::awaitable<void> resolve_until_joining(std::uint64_t generation);
  void load_state();
  saved_state::State current_state() const;
  asio::awaitable<void> save_loop();
  asio::awaitable<void> save_state();
  void dial_failed(const Address& address, std::string reason);
  std::string who() const { return self.name.empty() ? self.address.to_string() : self.name; }  // in logs

  asio::io_context& io;
  NodeConfig config;
  Seeds seeds;                                  // the last join's
  std::vector<Address> saved_peers;             // from the state file at start
  std::vector<PeerId> saved_spares;             // its active and passive views: passive spares at start
  std::vector<Address> last_contacts;           // the last resolution's addresses
  std::uint64_t join_generation = 0;            // bumped by every join()
  std::map<Address, std::string> dial_failures; // why the last dial of an address failed
  std::optional<PeerId> join_contact;           // who let us in (JoinSucceeded)
  std::optional<saved_state::State> last_saved;
  PeerId self;
  std::optional<transport::Keyring> secret;  // config.secret first, then config.accepted_secrets
  std::shared_ptr<transport::TlsContext> tls;  // config.tls loaded; wraps `transport`
  // Inbound handshakes in progress (NodeConfig::handshake_limits), and the throttles that keep a
  // flood of refused connections from becoming a log line each.
  transport::HandshakeAdmission admission{transport::HandshakeLimits{}};
  transport::LogThrottle cap_log{1, seconds(1)};
  transport::LogThrottle inbound_refusal_log{10, seconds(1)};
  std::unique_ptr<transport::Transport> transport;
  std::unique_ptr<transport::Listener> listener;
  hyparview::Core core;
  std::map<Address, std::shared_ptr<Peer>> peers;  // the links the core knows, by address
  driver::CoreTimers<hyparview::Timer> timers;  // the core's, on one runtime timer
  // Undelivered events, appended by the node and taken by the application.
  struct EventQueue : EventBatch {
    using EventBatch::move_into;
    using EventBatch::pop_front;
    using EventBatch::push_link_down;
    using EventBatch::push_link_up;
    using EventBatch::push_message;
  } events;
  // Membership subscribers (Node::subscribe), fed next to `events` with every LinkUp / LinkDown.
  std::shared_ptr<MembershipHub> membership;
  std::vector<LinkUp> published_view() const;  // the mirror a first subscriber starts from
  asio::awaitable<bool> wait_for_events();  // false: stopped, none left
  std::optional<Event> take_event();
  std::size_t take_events(EventBatch& batch);  // every pending event; 0 (batch emptied) if none
  // Any change the core or the connections make to which links exist or are active bumps
  // membership_epoch, which invalidates the per-peer and send-side caches.
  std::uint64_t membership_epoch = 1;
  std::uint64_t next_event_key = 1;
  Peer* last_send_peer = nullptr;  // valid while last_send_epoch == membership_epoch
  std::uint64_t last_send_epoch = 0;
  Notifier event_ready;
  Notifier event_space;
  Notifier join_done;
  std::optional<bool> join_outcome;
  std::vector<std::weak_ptr<Peer>> flushing;  // closed by the core, still flushing
  bool stopped = false;
  // ---- operations (metrics.cpp, ops_endpoint.cpp) ----
  NodeCounters counters;
  Instant started{};
  std::vector<std::pair<std::uint64_t, MetricsSource>> metrics_sources;
  std::uint64_t next_metrics_source = 1;
  std::unique_ptr<http::Server> ops_endpoint;
  void start_ops_endpoint();
  void refused(HandshakeRefusal reason) { ++counters.handshake_refusals[static_cast<std::size_t>(reason)]; }
  void connect_failed_because(ConnectFailure reason) { ++counters.connect_failures[static_cast<std::size_t>(reason)]; }
  NodeMetrics snapshot() const;
  std::vector<LinkInfo> link_infos() const;
  // Every coroutine of the node (accept and timer loops, dials, handshakes, supervisors) runs in
  // this group; shutdown() cancels them all. Each holds a shared_ptr to the Impl, so the Impl
  // (and the group) outlive them.
  TaskGroup tasks;
};

}  // namespace hypar
