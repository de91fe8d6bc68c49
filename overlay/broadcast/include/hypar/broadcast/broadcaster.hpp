// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::Broadcaster: Plumtree broadcast (plumtree::Core) run on a hypar::Node through the
// node's public API only. The node's active view is Plumtree's neighbour set; Plumtree messages
// travel as node messages (Node::try_send / send) encoded with the Plumtree codec.
//
//   hypar::Node node(io, {...});
//   hypar::Broadcaster caster(node, {});            // takes over node.next_event()
//   auto sent = caster.broadcast({'h', 'i'});       // the message id, or an error
//   while (auto d = co_await caster.next_delivery()) { use(d->origin, d->seq, d->hops, d->payload); }
//
// Metrics: the Broadcaster adds its counters, a delivery hop-count histogram (live LDH) and the
// duplicates per delivery (live RMR) to the node's metrics endpoint (Node::add_metrics_source),
// as hypar_plumtree_* (docs/operations.md), until it is destroyed.
//
// Ownership: the Broadcaster is the node's only event consumer (do not call node.next_event()
// yourself). With forward_node_events it hands on what is not Plumtree's: LinkUp, LinkDown and
// messages whose first byte is outside the Plumtree range, through next_event(). Without it,
// those messages are counted (Stats::foreign_dropped) and dropped.
//
// Threads and lifetime: every call runs on the node's executor thread. Its coroutines (event
// loop, timer loop, backlog senders) run in a TaskGroup that stop() and the destructor cancel.
// Destroy the Broadcaster before its Node. When the node stops (leave() or its destructor), the
// Broadcaster stops too: next_delivery() returns what is queued, then nullopt.
//
// Time: the core's timers run on one hypar::Timer re-armed at the earliest deadline, so the
// Broadcaster runs in virtual time under a VirtualClock like the node itself.
//
// Backpressure: a send that finds the peer's node queue full goes to a per-peer backlog, sent in
// order with co_await node.send(), and every later message to that peer queues behind it.
// A backlog holds at most backlog_limit messages, and takes a GOSSIP or an IHAVE only while it
// holds less than backlog_byte_limit bytes (GRAFT and PRUNE, a few dozen bytes, count against
// backlog_limit only):
// that is the memory bound per peer (docs/api.md). Past it, further messages are dropped and the
// peer is congested: the core makes its link lazy (plumtree::Core::peer_congested), so it gets no
// more payloads from us, only IHAVEs; once its backlog has drained it is told of every cached
// message (peer_drained) and grafts what was dropped. One slow peer thus never holds the others
// back nor grows our memory. Deliveries wait in a queue the application drains
// with next_delivery(); while it holds delivery_queue_limit entries the Broadcaster stops taking
// node events, so the node stops reading from its peers in turn. The same holds for the queue of
// forwarded events (forward_node_events): an application that asks for them must consume both.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/node/node.hpp"
#include "hypar/plumtree/core.hpp"
#include "hypar/plumtree/options.hpp"

namespace hypar {

struct BroadcasterConfig {
  plumtree::Options options{};            // Plumtree parameters (plumtree/options.hpp)
  std::uint64_t seed = 0;                 // the core's Rng (first sequence number); 0: random
  std::size_t delivery_queue_limit = 65536;  // queued deliveries before node events pause
  std::size_t backlog_limit = 65536;      // messages waiting per peer for space in its node queue
  std::size_t backlog_byte_limit = 4u << 20;  // and their bytes; past either the peer is congested
  bool forward_node_events = false;       // hand LinkUp/LinkDown/other messages to next_event()
};

// One message delivered to this node: `origin` broadcast it as its number `seq`; it crossed
// `hops` links on its way here (0 for this node's own broadcasts).
struct Delivery {
  Address origin;
  std::uint64_t seq = 0;
  std::uint16_t hops = 0;
  std::vector<std::uint8_t> payload;
};

// A broadcast's id, or why nothing was sent: payload_too_large (above
// BroadcasterConfig::options.max_payload_bytes), already_seen (IdScheme::content_hash: this payload
// was broadcast or delivered already) or stopped (the Broadcaster or its node has stopped).
// The core's types (hypar/plumtree/core.hpp); describe(error) gives the text.
using BroadcastError = plumtree::BroadcastError;
using BroadcastResult = plumtree::BroadcastResult;

// What the runtime did besides the core's own counters (plumtree::Stats).
struct BroadcasterStats {
  std::uint64_t decode_errors = 0;     // Plumtree-range messages that failed to decode (ignored)
  std::uint64_t foreign_dropped = 0;   // non-Plumtree messages dropped (forward_node_events off)
  std::uint64_t ihave_dropped = 0;     // IHAVEs not sent because the peer's backlog was full (congested)
  std::uint64_t backlogged = 0;        // messages that had to wait in a peer's backlog
  std::uint64_t backlog_dropped = 0;   // messages dropped because a backlog was full
  std::uint64_t peers_congested = 0;   // times a peer's full backlog moved it to lazy push
  std::uint64_t send_failed = 0;       // sends refused by the node (peer gone, too large, stopped)
  std::uint64_t ihaves_sent = 0;       // IHAVE messages handed to the node
};

class Broadcaster {
 public:
  // Starts consuming `node`'s events at once. Throws std::invalid_argument when the options are
  // invalid or a GOSSIP of options.max_payload_bytes would exceed node.max_message_size().
  Broadcaster(Node& node, BroadcasterConfig config);
  ~Broadcaster();  // stop()
  Broadcaster(const Broadcaster&) = delete;
  Broadcaster& operator=(const Broadcaster&) = delete;

  // Broadcasts `payload` to the whole overlay: it is delivered here first (hops 0) and pushed to
  // every neighbour. Returns its id, or why nothing was sent. Never waits.
  BroadcastResult broadcast(std::vector<std::uint8_t> payload);

  // The next delivered message, each exactly once (while its id is remembered, options.seen_ttl);
  // waits while there is none. nullopt once the Broadcaster stopped and its queue is empty.
  asio::awaitable<std::optional<Delivery>> next_delivery();
  std::optional<Delivery> poll_delivery();

  // With forward_node_events: the node's events that are not Plumtree messages, in node order.
  // Waits while there is none; nullopt once stopped and drained (or when forwarding is off).
  asio::awaitable<std::optional<Event>> next_event();

  // Stops broadcasting and cancels every coroutine of the Broadcaster; the node keeps running.
  // Queued deliveries still drain. Idempotent.
  void stop();
  bool stopped() const;

  const plumtree::Stats& core_stats() const;
  const BroadcasterStats& stats() const;
  std::vector<Address> eager_peers() const;
  std::vector<Address> lazy_peers() const;
  // Messages waiting in backlogs for space in their peers' node queues.
  std::size_t backlog_size() const;
  // Neighbours (eager or lazy) whose backlog holds at least `min_bytes` bytes, and all neighbours.
  // A producer that pauses while backlogged_peers(x) is most of neighbor_count() slows down when
  // the overlay cannot keep up, but not for one slow peer (whose backlog is bounded anyway).
  std::size_t backlogged_peers(std::size_t min_bytes) const;
  std::size_t neighbor_count() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;  // shared with the coroutines, which may outlive ~Broadcaster briefly
};

}  // namespace hypar
