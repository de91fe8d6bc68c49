// SPDX-License-Identifier: Apache-2.0
#pragma once
// plumtree::Core: Plumtree epidemic broadcast trees (Leitao, Pereira, Rodrigues, SRDS 2007) as a
// sans-IO state machine, the counterpart of hyparview::Core.
//
// Each node splits its overlay neighbours in two: eager peers (tree branches) get every payload
// at once; lazy peers get only batched IHAVE announcements. A payload that arrives twice prunes
// the second link into lazy; an announced message that does not arrive in time is fetched with
// GRAFT, which makes that link eager again. The eager links thus settle into a spanning tree
// and the lazy ones repair it.
//
// Call order:
//   1. construct;
//   2. feed the overlay's membership: neighbor_up / neighbor_down (HyParView's PeerUp / PeerDown);
//   3. broadcast(), received(), timer_fired() as they happen; after each call (or a batch of
//      calls) drain take_outputs() and carry the outputs out in order.
// Time passed in must never go backwards (asserted). The core reads no clock and performs no IO.
//
// Contract with the caller:
//   - Send{to, m}: send m on the overlay link to `to` (dropped if there is none). The core only
//     sends to current neighbours.
//   - Deliver: hand the payload to the application. Exactly once per message id for as long as
//     the id is remembered (Options::seen_ttl, counted from delivery). Messages carry their age
//     (Gossip::age_ms) and no node caches, announces or delivers one older than
//     payload_cache_ttl, so with every node on the same options, no copy is left anywhere when a
//     seen entry expires: delivery is exactly once, full stop, provided link transit (charged
//     1 ms per link) summed along a message's path stays under seen_ttl - payload_cache_ttl.
//   - ScheduleTimer{t, at}: call timer_fired(t) at `at`. Timers are never cancelled; a stale
//     timer is recognised (by its token) and ignored, as is any timer the core did not schedule.
//   - Messages from non-neighbours are accepted (a payload is delivered and forwarded) but change
//     no link state and get no reply.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/plumtree/messages.hpp"
#include "hypar/plumtree/options.hpp"
#include "hypar/rng.hpp"
#include "hypar/time.hpp"

namespace hypar::plumtree {

enum class TimerKind : std::uint8_t {
  ihave_flush,  // send the IHAVEs collected over the last ihave_batch_interval
  graft,        // a missing message's wait is over: graft the next announcer
  sweep,        // drop expired cache and seen entries
};

struct Timer {
  TimerKind kind = TimerKind::sweep;
  MessageId id{};           // for graft
  std::uint64_t token = 0;  // identifies the schedule a timer belongs to
  friend bool operator==(const Timer&, const Timer&) = default;
};

// ---- outputs ----
struct Send {
  Address to;
  Message message;
};
// A message for the application. id.origin and id.seq name it; hops is the number of links it
// crossed (0 at its origin).
struct Deliver {
  MessageId id;
  std::uint16_t hops = 0;
  std::vector<std::uint8_t> payload;
};
struct ScheduleTimer {
  Timer timer;
  Instant at;
};
using Output = std::variant<Send, Deliver, ScheduleTimer>;

// Why a broadcast was not sent; the one definition, also used by hypar::Broadcaster.
enum class BroadcastError : std::uint8_t {
  payload_too_large,  // above Options::max_payload_bytes; nothing was sent
  already_seen,       // IdScheme::content_hash: this node already has a message with this id
  stopped,            // hypar::Broadcaster only: it (or its node) has stopped; never from Core
};
const char* describe(BroadcastError error);

struct BroadcastResult {
  std::variant<MessageId, BroadcastError> value;

  bool ok() const { return value.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Preconditions: ok() for id(), !ok() for error().
  const MessageId& id() const { return std::get<MessageId>(value); }
  BroadcastError error() const { return std::get<BroadcastError>(value); }
};

// Running totals, for metrics and tests.
struct Stats {
  std::uint64_t payload_sent = 0;       // GOSSIP
  std::uint64_t control_sent = 0;       // IHAVE, GRAFT, PRUNE
  std::uint64_t payload_received = 0;
  std::uint64_t control_received = 0;
  std::uint64_t delivered = 0;
  std::uint64_t duplicates = 0;         // GOSSIP for a message already delivered
  std::uint64_t grafts_sent = 0;        // for missing messages (timer) and tree optimisation
  std::uint64_t prunes_sent = 0;
  std::uint64_t optimizations = 0;      // lazy link grafted in place of a longer eager path
  std::uint64_t oversized_dropped = 0;  // GOSSIP above max_payload_bytes, not delivered
  std::uint64_t missing_overflow = 0;   // IHAVE entries ignored: max_missing tracked, max_waiting_announcements waiting
  std::uint64_t expired_dropped = 0;    // GOSSIP or IHAVE entries older than payload_cache_ttl, ignored
};

class Core {
 public:
  // Throws std::invalid_argument listing every problem when options are invalid. `seed` feeds
  // the core's own Rng (it picks the first sequence number, see broadcast()).
  Core(Address self, Options options, std::uint64_t seed);

  // ---- inputs ----
  // A new overlay neighbour: it starts eager, and gets (in the next IHAVE batch) the ids of every
  // message still in the payload cache, so that a node briefly cut off by membership churn grafts
  // what it missed (an addition to the paper). The IHAVE carries each message's age, so the
  // newcomer's copy expires when ours does. Repeated calls for a neighbour are no-ops.
  void neighbor_up(const Address& peer, Instant now);
  // The neighbour is gone: it leaves both sets and its queued IHAVEs are dropped.
  void neighbor_down(const Address& peer, Instant now);
  // The runtime cannot keep up sending to `peer` (its bounded backlog overflowed, payloads were
  // dropped): the link becomes lazy on our side only (no PRUNE), so the peer gets IHAVEs instead of
  // payloads, and a GRAFT from it makes the link eager again. No-op for a non-neighbour.
  void peer_congested(const Address& peer, Instant now);
  // The runtime's backlog to `peer` has drained after congestion: the peer is told (next IHAVE
  // batch) of every message still cached, as a new neighbour is, and grafts what was dropped.
  void peer_drained(const Address& peer, Instant now);
  // Broadcasts `payload` from this node: delivers it here (hops 0) and pushes it to every
  // neighbour. Returns its id, or an error (payload too large; with content-hash ids, a payload
  // already seen) in which case nothing happened. Sequence ids start at a random number so that
  // a restarted node does not reuse ids its peers still remember.
  BroadcastResult broadcast(std::vector<std::uint8_t> payload, Instant now);
  void received(const Address& from, const Message& message, Instant now);
  void timer_fired(const Timer& timer, Instant now);

  // ---- outputs ----
  // Appends everything produced since the last call to `out`, in order. Pass the same (drained
  // and cleared) vector each time: the core and the caller then trade two buffers back and forth
  // and no call allocates once both have grown to the largest batch.
  void take_outputs(std::vector<Output>& out);

  // ---- getters ----
  const Address& self() const { return self_; }
  const Options& options() const { return options_; }
  const Stats& stats() const { return stats_; }
  // Neighbours in address order.
  std::vector<Address> eager_peers() const;
  std::vector<Address> lazy_peers() const;
  bool is_neighbor(const Address& peer) const { return find_peer(peer) != nullptr; }
  bool is_eager(const Address& peer) const;
  bool is_lazy(const Address& peer) const;
  bool has_seen(const MessageId& id) const { return seen_.contains(id); }
  bool has_cached(const MessageId& id) const { return cache_.contains(id); }
  std::size_t seen_count() const { return seen_.size(); }
  std::size_t cached_count() const { return cache_.size(); }
  // Messages announced by IHAVE but not yet received, waiting on a graft timer.
  std::size_t missing_count() const { return missing_.size(); }
  std::size_t waiting_announcements() const { return waiting_.size(); }

  // ---- self-check ----
  // Every invariant of the core's state that does not hold, one sentence each; empty when sound
  // (invariants.cpp lists them). Builds with HYPAR_CHECK_INVARIANTS run it when each input
  // returns and abort on a violation (hypar/invariants.hpp).
  std::vector<std::string> check_invariants() const;

 private:
  friend struct CoreTestAccess;  // tests corrupt the state to see check_invariants() catch it
  enum class Mode : std::uint8_t { eager, lazy };
  struct Peer {
    Address address;
    Mode mode = Mode::eager;
  };
  struct Seen {
    std::uint16_t hops = 0;
    std::optional<Address> from;  // who sent the copy we delivered (none for our own broadcasts)
    Instant expires{};
  };
  struct Cached {
    std::uint16_t hops = 0;
    std::vector<std::uint8_t> payload;
    Instant born{};     // when the origin broadcast it, estimated from the age it arrived with
    Instant expires{};  // born + payload_cache_ttl
  };
  struct Announcer {
    Address peer;
    std::uint16_t hops = 0;
  };
  struct Missing {
    std::deque<Announcer> announcers;  // in arrival order, each peer once
    std::uint64_t token = 0;           // of the armed graft timer
    Instant born{};                    // from the first announcement; not grafted once dead
  };
  // An announcement of a missing message waiting for room among the tracked ones.
  struct WaitingAnnouncement {
    MessageId id;
    Address from;
    std::uint16_t hops = 0;
    Instant born{};
  };
  // An IHAVE entry waiting for the batch: its age is computed when the batch is sent.
  struct QueuedIHave {
    MessageId id;
    std::uint16_t hops = 0;
    Instant born{};
  };
  struct Expiry {
    Instant at;
    MessageId id;
  };

  void on_gossip(const Address& from, const Gossip& m, Instant now);
  void on_ihave(const Address& from, const IHave& m, Instant now);
  void on_graft(const Address& from, const Graft& m, Instant now);
  void on_prune(const Address& from);
  void on_graft_timer(const Timer& timer, Instant now);
  void on_flush_timer(const Timer& timer, Instant now);
  void on_sweep_timer(const Timer& timer, Instant now);

  // Delivers a new message, remembers and caches it, and pushes it on: payload to eager peers,
  // an IHAVE to lazy ones (never back to `from`).
  void deliver(const MessageId& id, std::uint16_t hops, const std::optional<Address>& from,
               const std::vector<std::uint8_t>& payload, Instant born, Instant now);
  void announce_missing(const Address& from, const IHaveEntry& entry, Instant born, Instant now);
  void track_missing(const Address& from, const MessageId& id, std::uint16_t hops, Instant born, Instant now);
  void admit_waiting(Instant now);
  void maybe_optimize(const Address& from, const IHaveEntry& entry);
  void queue_ihave(const Address& to, const QueuedIHave& entry, Instant now);
  void announce_cache(const Address& to, Instant now);
  // When a message received with `age_ms` was born, in our time: its age plus 1 ms for the link.
  Instant born_at(std::uint32_t age_ms, Instant now) const;
  bool alive(Instant born, Instant now) const { return now - born < options_.payload_cache_ttl; }
  void expire(Instant now);
  void ensure_sweep(Instant now);

  void set_mode(const Address& peer, Mode mode);
  Peer* find_peer(const Address& peer);
  const Peer* find_peer(const Address& peer) const;
  void send(const Address& to, Message message);
  void schedule(Timer timer, Instant at) { outputs_.push_back(ScheduleTimer{timer, at}); }
  void advance(Instant now);

  Address self_;
  Options options_;
  Rng rng_;
  Instant last_now_{};
  Stats stats_;

  // The overlay neighbours (a handful), sorted by address so that pushes go out in a
  // deterministic order.
  std::vector<Peer> peers_;
  // Looked up by id only, never iterated: hashing cannot leak into the outputs.
  std::unordered_map<MessageId, Seen, MessageIdHash> seen_;
  std::unordered_map<MessageId, Cached, MessageIdHash> cache_;
  // Insertion order is expiry order (one ttl from delivery each). An entry whose map value
  // expires later belongs to an older life of the id and is skipped.
  std::deque<Expiry> seen_expiry_;
  // The cached ids by (expiry, id): a message's expiry depends on the age it arrived with, so
  // delivery order is not expiry order. Exactly one entry per cache_ entry.
  std::set<std::pair<Instant, MessageId>> cache_expiry_;
  std::map<MessageId, Missing> missing_;
  // Announcements that found missing_ full, oldest first; admitted as entries leave missing_, so
  // that none is lost to a burst. Non-empty only while missing_ is full.
  std::deque<WaitingAnnouncement> waiting_;
  std::map<Address, std::vector<QueuedIHave>> ihave_queue_;

  std::uint64_t next_seq_ = 0;
  std::uint64_t next_token_ = 1;
  std::uint64_t flush_token_ = 0;  // of the armed flush timer, 0 if none
  std::uint64_t sweep_token_ = 0;  // of the armed sweep timer, 0 if none
  std::vector<Output> outputs_;
};

}  // namespace hypar::plumtree
