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
//     the id is remembered (Options::seen_ttl).
//   - ScheduleTimer{t, at}: call timer_fired(t) at `at`. Timers are never cancelled; a stale
//     timer is recognised (by its token) and ignored, as is any timer the core did not schedule.
//   - Messages from non-neighbours are accepted (a payload is delivered and forwarded) but change
//     no link state and get no reply.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <unordered_map>
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
  std::uint64_t missing_overflow = 0;   // IHAVE entries ignored because max_missing were tracked
};

class Core {
 public:
  // Throws std::invalid_argument listing every problem when options are invalid. `seed` feeds
  // the core's own Rng (it picks the first sequence number, see broadcast()).
  Core(Address self, Options options, std::uint64_t seed);

  // ---- inputs ----
  // A new overlay neighbour: it starts eager, and gets (in the next IHAVE batch) the ids of every
  // message still in the payload cache, so that a node briefly cut off by membership churn grafts
  // what it missed (an addition to the paper). Repeated calls for a neighbour are no-ops.
  void neighbor_up(const Address& peer, Instant now);
  // The neighbour is gone: it leaves both sets and its queued IHAVEs are dropped.
  void neighbor_down(const Address& peer, Instant now);
  // Broadcasts `payload` from this node: delivers it here (hops 0) and pushes it to every
  // neighbour. Returns its id, or an error (payload too large; with content-hash ids, a payload
  // already seen) in which case nothing happened. Sequence ids start at a random number so that
  // a restarted node does not reuse ids its peers still remember.
  BroadcastResult broadcast(std::vector<std::uint8_t> payload, Instant now);
  void received(const Address& from, const Message& message, Instant now);
  void timer_fired(const Timer& timer, Instant now);

  // ---- outputs ----
  // Everything produced since the last call, in order.
  std::vector<Output> take_outputs();

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

 private:
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
    Instant expires{};
  };
  struct Announcer {
    Address peer;
    std::uint16_t hops = 0;
  };
  struct Missing {
    std::deque<Announcer> announcers;  // in arrival order, each peer once
    std::uint64_t token = 0;           // of the armed graft timer
  };
  struct Expiry {
    Instant at;
    MessageId id;
  };

  void on_gossip(const Address& from, const Gossip& m, Instant now);
  void on_ihave(const Address& from, const IHave& m, Instant now);
  void on_graft(const Address& from, const Graft& m);
  void on_prune(const Address& from);
  void on_graft_timer(const Timer& timer, Instant now);
  void on_flush_timer(const Timer& timer);
  void on_sweep_timer(const Timer& timer, Instant now);

  // Delivers a new message, remembers and caches it, and pushes it on: payload to eager peers,
  // an IHAVE to lazy ones (never back to `from`).
  void deliver(const MessageId& id, std::uint16_t hops, const std::optional<Address>& from,
               const std::vector<std::uint8_t>& payload, Instant now);
  void announce_missing(const Address& from, const IHaveEntry& entry, Instant now);
  void maybe_optimize(const Address& from, const IHaveEntry& entry);
  void queue_ihave(const Address& to, const IHaveEntry& entry, Instant now);
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
  // Insertion order is expiry order (one ttl each). An entry whose map value expires later
  // belongs to an older life of the id and is skipped.
  std::deque<Expiry> seen_expiry_;
  std::deque<Expiry> cache_expiry_;
  std::map<MessageId, Missing> missing_;
  std::map<Address, std::vector<IHaveEntry>> ihave_queue_;

  std::uint64_t next_seq_ = 0;
  std::uint64_t next_token_ = 1;
  std::uint64_t flush_token_ = 0;  // of the armed flush timer, 0 if none
  std::uint64_t sweep_token_ = 0;  // of the armed sweep timer, 0 if none
  std::vector<Output> outputs_;
};

}  // namespace hypar::plumtree
