// SPDX-License-Identifier: Apache-2.0
#pragma once
// hyparview::Core: the HyParView membership protocol as a sans-IO state machine.
//
// The core owns the active and passive views and decides every protocol step; it performs no
// IO, reads no clock and owns its own seeded RNG. The caller (the simulator or the node
// runtime) feeds it inputs, each with the current time, and drains its outputs in order.
//
// Call order:
//   1. construct, then start(now) once;
//   2. join(contacts, now) to enter an overlay (a node that is only ever joined need not call it);
//   3. for every event of the transport and every timer: link_up / link_down / connect_failed /
//      received / timer_fired; after each call (or a batch of calls) drain take_outputs();
//   4. leave(now) to go away gracefully; after it every input is ignored.
// Time passed in must never go backwards (asserted).
//
// Link contract the caller implements (docs/architecture.md):
//   - There is at most one link per remote address. Connect{a} when a link to `a` exists or is
//     being opened does nothing; otherwise it opens one and later reports link_up(peer) (the
//     handshake told us the peer's identity) or connect_failed(a).
//   - Send{a, m} queues m on the link to `a`, also while that link is still opening; it is
//     dropped if there is no link.
//   - Close{a} closes the link after flushing what was queued on it. No link_down is reported
//     for a link the core closed.
//   - Links opened by remote peers are reported with link_up(peer) before their first message.
//   - link_down(a) reports a link that broke (error, EOF, reset) without the core asking.
//   - ScheduleTimer{t, at}: call timer_fired(t) at `at`. Timers are never cancelled: a stale
//     timer is recognised by the core and ignored. A keepalive timer fired later than `at` tells
//     the core that the caller's loop lagged: that time is not counted as the peers' silence.
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/hyparview/down_reason.hpp"
#include "hypar/hyparview/messages.hpp"
#include "hypar/hyparview/options.hpp"
#include "hypar/peer_id.hpp"
#include "hypar/rng.hpp"
#include "hypar/time.hpp"

namespace hypar::hyparview {

enum class TimerKind : std::uint8_t {
  shuffle,
  keepalive,
  rejoin,
  neighbor_timeout,
  fill_active,
  sweep,
  heal,
  probe,
  join_swap,
};

struct Timer {
  TimerKind kind = TimerKind::shuffle;
  Address peer{};           // for neighbor_timeout
  std::uint64_t token = 0;  // identifies the request or schedule a timer belongs to
  friend bool operator==(const Timer&, const Timer&) = default;
};

// ---- outputs ----
struct Connect { Address peer; };
struct Send { Address to; Message message; };
struct Close { Address peer; };
struct ScheduleTimer { Timer timer; Instant at; };
// Application events: the active view changed, or a join finished.
struct PeerUp { PeerId peer; };
struct PeerDown { PeerId peer; DownReason reason; };
struct JoinSucceeded { PeerId contact; };
struct JoinFailed { std::vector<Address> contacts; };  // none of them could be reached

using Output = std::variant<Connect, Send, Close, ScheduleTimer, PeerUp, PeerDown, JoinSucceeded, JoinFailed>;

class Core {
 public:
  // Throws std::invalid_argument listing every problem when options are invalid.
  Core(PeerId self, Options options, std::uint64_t seed);

  // ---- inputs ----
  // Schedules the periodic timers (shuffle, keepalive, sweep). Call once, first.
  void start(Instant now);
  // Joins through the first reachable contact, in order. Remembers them for re-joining when this
  // node becomes isolated. Outcome: JoinSucceeded or JoinFailed (then retried with backoff).
  void join(std::vector<Address> contacts, Instant now);
  // Replaces the contacts later re-joins go through (e.g. names resolved again), without starting
  // an attempt; an empty list keeps the current one.
  void set_contacts(std::vector<Address> contacts);
  // Adds known peers (e.g. saved before a restart) to the passive view as spares.
  void add_spares(const std::vector<PeerId>& peers, Instant now);
  void link_up(const PeerId& peer, Instant now);
  void link_down(const Address& peer, Instant now);
  void connect_failed(const Address& peer, Instant now);
  void received(const Address& from, const Message& message, Instant now);
  void timer_fired(const Timer& timer, Instant now);
  // Sends DISCONNECT(alive=false) to every active peer and closes every link.
  void leave(Instant now);

  // ---- outputs ----
  // Appends everything produced since the last call to `out`, in order. Pass the same (drained
  // and cleared) vector each time: the core and the caller then trade two buffers back and forth
  // and no call allocates once both have grown to the largest batch (the simulator's case).
  void take_outputs(std::vector<Output>& out);
  // Frees the output buffer if nothing is pending: for a caller whose core is idle most of the
  // time (a real node between control messages), so an idle core holds no output capacity.
  void release_output_buffer();

  // ---- getters ----
  const PeerId& self() const { return self_; }
  const Options& options() const { return options_; }
  std::vector<PeerId> active_view() const;
  const std::vector<PeerId>& passive_view() const { return passive_; }
  bool is_active(const Address& peer) const;
  bool is_passive(const Address& peer) const;
  bool has_left() const { return left_; }
  std::size_t pending_requests() const { return pending_.size(); }
  bool is_pending(const Address& peer) const { return pending_.count(peer) > 0; }
  // After timer_fired(timer): true if `timer` was the deadline of a NEIGHBOR request that is still
  // awaited (it fired late, so the core waits once more for the time its own lag took; see
  // on_neighbor_timeout). Runtimes count a request as timed out only when this is false.
  bool awaits_reply(const Timer& timer) const;
  // Peers lost to a timeout or a broken link that are still being asked again (partition healing).
  std::vector<PeerId> lost_peers() const;

  // ---- self-check ----
  // Every invariant of the core's state that does not hold, one sentence each; empty when sound
  // (invariants.cpp lists them). Builds with HYPAR_CHECK_INVARIANTS run it when each input
  // returns and abort on a violation (hypar/invariants.hpp).
  std::vector<std::string> check_invariants() const;

 private:
  friend struct CoreTestAccess;  // tests corrupt the state to see check_invariants() catch it
  // Shuffle ids of replies we still accept: the newest few shuffles sent.
  static constexpr std::size_t kRememberedShuffles = 4;

  enum class Purpose : std::uint8_t { inbound, join_contact, neighbor_request, shuffle_reply, active };
  struct Link {
    Purpose purpose = Purpose::inbound;
    bool up = false;
    std::optional<PeerId> peer;
    Instant since{};
  };
  struct ActivePeer {
    PeerId id;
    // When we last heard from the peer, moved forward by the lateness of every keepalive tick
    // since (on_keepalive_timer): now - last_heard is its silence in time this node was running.
    Instant last_heard{};
  };
  struct PendingRequest {
    std::uint64_t token = 0;
    Priority priority = Priority::low;
    Instant due{};          // when its neighbor_timeout timer is due
    bool extended = false;  // that timer fired late once and was re-armed for the lateness
    bool swap = false;      // a join swap's: it holds the slot its eviction freed
  };
  struct Lost {
    std::uint64_t incarnation = 0;
    Instant until{};
  };
  // A peer lost to a timeout or a broken link, asked again until it answers (partition healing).
  struct Suspect {
    PeerId id;
    Instant next_try{};
    Instant forget_at{};
    Duration backoff{};
  };
  struct SentShuffle {
    std::uint32_t id = 0;
    std::vector<PeerId> peers;
  };

  // handlers, one per message
  void on_join(const PeerId& from, Instant now);
  void on_forward_join(const PeerId& from, const ForwardJoin& m, Instant now);
  void on_neighbor(const PeerId& from, const Neighbor& m, Instant now);
  void on_neighbor_reply(const PeerId& from, const NeighborReply& m, Instant now);
  void on_disconnect(const PeerId& from, const Disconnect& m, Instant now);
  void on_shuffle(const PeerId& from, const Shuffle& m, Instant now);
  void on_shuffle_reply(const PeerId& from, const ShuffleReply& m, Instant now);

  // timers
  void on_shuffle_timer(Instant now);
  void on_keepalive_timer(Instant now);
  void discount_own_lag(Duration lateness, Instant now);
  bool defers_failure_check(Duration lateness);
  Duration stall_slack() const { return options_.keepalive_interval / 4; }
  void on_rejoin_timer(const Timer& timer, Instant now);
  void on_neighbor_timeout(const Timer& timer, Instant now);
  bool extends_for_own_lag(PendingRequest& request, const Timer& timer, Instant now);
  void on_sweep_timer(Instant now);
  void on_heal_timer(const Timer& timer, Instant now);
  void on_probe_timer(Instant now);
  void replace_an_early_walk_link(Instant now);
  void remember_early_walk_link(const Address& joiner, Instant now);
  void on_join_swap_timer(Instant now);

  // views
  // When the view is full, evicts a peer (eviction_choice) and sends it `introduce`.
  void add_active(const PeerId& peer, Instant now, const std::optional<PeerId>& introduce = {});
  void evict(PeerId peer, Instant now, const std::optional<PeerId>& introduce);  // by value: it may name an element of active_
  const ActivePeer& eviction_choice();
  void ask_introduced(const PeerId& peer, Instant now);
  void remove_active(const Address& peer, DownReason reason, Instant now);
  void add_passive(const PeerId& peer, Instant now, const std::vector<PeerId>* evict_first = nullptr);
  void remove_passive(const Address& peer);
  std::vector<PeerId> sample_passive(std::size_t count);
  std::vector<PeerId> sample_active(std::size_t count, const Address* except);
  std::optional<PeerId> random_active_except(const Address& a, const Address& b);
  void fill_active(Instant now);
  void request_neighbor(const PeerId& candidate, Priority priority, Instant now,
                        const std::optional<PeerId>& dropping = {});
  Priority wanted_priority() const;
  bool has_room_for_low_priority() const;
  void became_isolated(Instant now);
  void schedule_rejoin(Instant now);
  void try_next_contact(Instant now);
  void joined(const PeerId& contact, Instant now);
  void quarantine(const PeerId& peer, Instant now);
  bool is_quarantined(const PeerId& peer, Instant now) const;
  void remember_lost(const PeerId& peer, Instant now);
  void forget_lost(const Address& peer);
  void schedule_heal(Instant at);
  Instant heal_wait(Duration backoff, Instant now);

  // outputs
  void send(const Address& to, Message message) { outputs_.push_back(Send{to, std::move(message)}); }
  void connect(const Address& peer, Purpose purpose, Instant now);
  void close(const Address& peer);
  void schedule(Timer timer, Instant at) { outputs_.push_back(ScheduleTimer{timer, at}); }
  Duration jittered(Duration base);
  void advance(Instant now);

  ActivePeer* find_active(const Address& peer);
  const PeerId* find_passive(const Address& peer) const;

  PeerId self_;
  Options options_;
  Rng rng_;
  Rng heal_rng_;  // its own stream: healing does not shift the protocol's other random choices
  Instant last_now_{};
  bool started_ = false;
  bool left_ = false;

  std::vector<ActivePeer> active_;   // insertion-ordered, at most active_size
  std::vector<PeerId> passive_;      // insertion-ordered, at most passive_size
  std::map<Address, Link> links_;
  std::map<Address, PendingRequest> pending_;
  std::map<Address, Lost> lost_;
  std::map<Address, Instant> rejected_until_;
  std::vector<SentShuffle> sent_shuffles_;  // the last few, newest last
  std::vector<Suspect> suspects_;           // oldest first, at most heal_memory
  std::uint64_t heal_token_ = 0;            // the valid heal timer, 0 if none is scheduled
  // Joiners we asked because their FORWARD_JOIN walk ended early here (we had no other neighbour
  // to walk it to), or while our own view was short: evicted first by the join_swaps.
  std::vector<Address> early_walk_links_;
  bool saw_overlapping_join_ = false;  // once per life: the join_swaps start
  std::size_t swaps_left_ = 0;
  Instant heal_due_{};                      // when it fires

  std::vector<Address> contacts_;
  std::size_t next_contact_ = 0;
  std::size_t contacts_tried_ = 0;     // in the current join attempt
  bool joining_ = false;               // a JOIN attempt is in flight
  bool report_join_ = false;           // the application awaits the outcome of join()
  Duration rejoin_backoff_{};
  std::uint64_t rejoin_token_ = 0;     // the valid rejoin timer, 0 if none is scheduled
  bool fill_retry_scheduled_ = false;
  // Keepalive ticks: when the one in flight is due (its lateness when it fires is this node's own
  // lag), and whether the last tick came after a stall and declared nobody failed.
  Instant keepalive_due_{};
  bool failure_check_deferred_ = false;

  std::uint64_t next_token_ = 1;
  std::uint32_t next_shuffle_id_ = 1;
  std::vector<Output> outputs_;
};

}  // namespace hypar::hyparview
