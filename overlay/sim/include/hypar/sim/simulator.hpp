// SPDX-License-Identifier: Apache-2.0
#pragma once
// A deterministic discrete-event simulator running many real hyparview::Core objects in one
// thread, in virtual time (Instant{} + elapsed).
//
// Determinism: everything random comes from Rngs seeded by Config::seed (node i's core gets
// mix_seed(seed, i)); events run in (time, insertion sequence) order; nothing that affects
// results iterates a hash container. Same seed and same calls => same trace_hash() and views.
//
// Network model (the link contract of hypar/hyparview/core.hpp):
//   - node i listens on 127.x.y.z:port with x.y.z = i + 1, is named "n<i>", incarnation 1;
//   - at most one link per unordered node pair (found by scanning the shorter of the two
//     nodes' small link lists); each side is none, opening, joining (shares the peer's
//     connect), or up;
//   - every item (handshake, message, close, reset) on a link direction takes a random latency
//     in [latency_min, latency_max] and is never delivered before an earlier item of the same
//     direction (FIFO);
//   - Connect: the acceptor gets link_up(initiator) before any message, the initiator gets
//     link_up(acceptor) one latency later; two nodes connecting to each other share one link;
//   - Connect to a dead node or an unknown address: connect_failed after the handshake
//     latency plus connect_fail_delay;
//   - Send queues on the link, also while it opens; dropped without a link;
//   - Close: the peer gets link_down after everything queued before; the closer gets nothing;
//   - Close while opening (a dial given up): the handshake still travels; a peer with no link of
//     its own to the closer accepts it (link_up, then link_down on the close that follows); a peer
//     that meanwhile dialled the closer itself, or joined a later dial of the closer, ignores it
//     and keeps its own connection;
//   - kill(node): the node stops at once; messages it already sent are still delivered. Its
//     live peers learn of it per Config::crash_notice: with `reset` (the default) each gets
//     link_down (or connect_failed) one latency later; with `on_send` a peer whose link is open
//     notices only when it sends on that link: the item is lost and link_down comes back one
//     latency after it reached the dead end (links still opening fail as with `reset`).
//   - cut(group): a silent partition, like a firewall dropping packets between groups: every
//     item (handshake, message, close, reset) between nodes of different groups is held back, as
//     TCP keeps retransmitting it, and heal() sends what was held, in order, one latency later.
//     A connection whose initiator gave up (closed it) before the heal never reaches the other
//     side: its handshake and whatever followed it are discarded, as the kernel stops retrying.
//     Nothing tells either side about the cut: links die only by the cores' keepalive timeouts.
// Application events (PeerUp, PeerDown, JoinSucceeded, JoinFailed) are counted per node and
// can be observed with on_app_event.
//
// Upper layer: one protocol above HyParView on every node (e.g. Plumtree, see plumtree_sim.hpp)
// can be attached. It sees each node's application events, sends opaque byte messages on the
// node's links with send_app (same latency, FIFO order and drop rules as HyParView messages on
// that link, like DATA frames in the node runtime) and sets timers with schedule_app_timer.
// Nothing is handed to the layer for dead nodes.
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/hyparview/core.hpp"
#include "hypar/peer_id.hpp"
#include "hypar/rng.hpp"
#include "hypar/sim/graph_metrics.hpp"
#include "hypar/time.hpp"

namespace hypar::sim {

// How the peers of a crashed node learn of the crash (see kill()).
enum class CrashNotice : std::uint8_t {
  reset,    // at once: the crashed host's OS resets its connections
  on_send,  // on the next send: the host vanished, a write on the connection is what fails
};

struct Config {
  std::uint64_t seed = 1;
  CrashNotice crash_notice = CrashNotice::reset;
  hyparview::Options options;  // the same for every node
  Duration latency_min = milliseconds(1);
  Duration latency_max = milliseconds(10);
  // How long a connect to a dead node or unknown address takes to fail, after the handshake's latency.
  Duration connect_fail_delay = milliseconds(50);
  std::uint16_t port = 7000;
};

// Per-node counts of the core's application events.
struct AppCounters {
  std::uint64_t peer_up = 0;
  std::uint64_t peer_down = 0;
  std::uint64_t join_succeeded = 0;
  std::uint64_t join_failed = 0;
};

// One input handed to a core, for observers (tests, traces). Pointers live for the callback only.
enum class InputKind : std::uint8_t { link_up, link_down, connect_failed, received, timer };
struct InputEvent {
  Instant at{};
  std::size_t node = 0;
  InputKind kind = InputKind::timer;
  std::size_t peer = kNoNode;  // the remote node, kNoNode for timers and unknown addresses
  const hyparview::Message* message = nullptr;  // for received
  const hyparview::Timer* timer = nullptr;      // for timer
  static constexpr std::size_t kNoNode = std::numeric_limits<std::size_t>::max();
};

// A protocol running above HyParView on every simulated node. Callbacks run inside the
// simulator's event loop; they may call send_app, schedule_app_timer and the getters.
class UpperLayer {
 public:
  virtual ~UpperLayer() = default;
  // Every application event of a live node's HyParView core (PeerUp, PeerDown, ...), in order.
  virtual void on_app_event(std::size_t node, const hyparview::Output& event, Instant now) = 0;
  // Bytes that `from` sent to `node` with send_app.
  virtual void on_app_message(std::size_t node, std::size_t from, std::span<const std::uint8_t> bytes,
                              Instant now) = 0;
  virtual void on_app_timer(std::size_t node, std::uint64_t cookie, Instant now) = 0;
};

struct Progress {
  Instant now{};
  std::uint64_t events = 0;
  std::size_t nodes = 0;
  std::size_t alive = 0;
};

class Simulator {
 public:
  static constexpr std::uint64_t kDefaultMaxEvents = 1'000'000'000;

  // Throws std::invalid_argument when the core options or latencies are invalid.
  explicit Simulator(Config config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // ---- driving ----
  // Creates and starts node size() at the current time; returns its index.
  std::size_t add_node();
  // node joins through `contacts` (node indices, tried in order).
  void join(std::size_t node, const std::vector<std::size_t>& contacts);
  void join_addresses(std::size_t node, std::vector<Address> contacts);
  // Runs every event up to and including `deadline`, then sets now() to it. Returns false (and
  // stops early) when max_events events were processed first.
  bool run_until(Instant deadline, std::uint64_t max_events = kDefaultMaxEvents);
  bool run_for(Duration duration, std::uint64_t max_events = kDefaultMaxEvents);
  // Crash: the node stops without a word (see the network model above).
  void kill(std::size_t node);
  // Graceful: the core says goodbye (DISCONNECT, Close), then the node is gone like a killed one.
  void leave(std::size_t node);
  // Core timers of a held kind that come due are set aside instead of firing, until
  // release_timers() makes them all due now (in the order they came due). E.g. holding
  // TimerKind::shuffle stops membership rounds while the reactive timers keep running.
  void hold_timers(hyparview::TimerKind kind);
  void release_timers();
  std::size_t held_timers() const { return held_timers_.size(); }
  // Silent partition (see the network model): group[i] is node i's side; nodes past the end of
  // `group` (added later) are in group 0. A second cut replaces the first.
  void cut(std::vector<std::uint8_t> group);
  // Ends the cut: what it held is sent on now.
  void heal();
  bool is_cut() const { return cut_; }
  // Whether a and b are on different sides of the cut in place (false when there is none).
  bool across_cut(std::size_t a, std::size_t b) const;
  // Items the cut holds back right now.
  std::size_t held_by_cut() const { return cut_held_.size(); }
  // Test hook: handles `output` as if `node`'s core had just emitted it.
  void inject(std::size_t node, const hyparview::Output& output);

  // ---- the upper layer ----
  // At most one; not owned; attach before adding nodes. nullptr detaches.
  void attach(UpperLayer* layer) { upper_ = layer; }
  // Queues `bytes` on node's link to `peer` (dropped without a link, or from a dead node).
  void send_app(std::size_t node, const Address& peer, std::vector<std::uint8_t> bytes);
  // Calls the layer's on_app_timer(node, cookie) at `at` (now if earlier), unless node is dead.
  void schedule_app_timer(std::size_t node, Instant at, std::uint64_t cookie);

  // ---- observers (optional; set before running) ----
  void on_input(std::function<void(const InputEvent&)> callback) { on_input_ = std::move(callback); }
  void on_app_event(std::function<void(std::size_t node, const hyparview::Output&, Instant)> callback) {
    on_app_event_ = std::move(callback);
  }
  // Called after every `every_events` processed events.
  void on_progress(std::function<void(const Progress&)> callback, std::uint64_t every_events) {
    on_progress_ = std::move(callback);
    progress_every_ = every_events == 0 ? 1 : every_events;
  }

  // ---- getters ----
  Instant now() const { return now_; }
  std::size_t size() const { return nodes_.size(); }
  std::size_t alive_count() const { return alive_count_; }
  bool alive(std::size_t node) const { return nodes_.at(node).alive; }
  const hyparview::Core& core(std::size_t node) const { return *nodes_.at(node).core; }
  const PeerId& id(std::size_t node) const { return nodes_.at(node).id; }
  Address address_of(std::size_t node) const;
  std::optional<std::size_t> index_of(const Address& address) const;
  // Views as node indices (entries that are not simulator nodes are left out); empty when dead.
  std::vector<std::size_t> active_view(std::size_t node) const;
  std::vector<std::size_t> passive_view(std::size_t node) const;
  // Every node's views and alive flag, for graph_metrics.
  ViewGraph views() const;
  const AppCounters& counters(std::size_t node) const { return nodes_.at(node).counters; }
  const AppCounters& total_counters() const { return totals_; }
  std::uint64_t events_processed() const { return events_processed_; }
  // HyParView messages the cores sent so far, KEEPALIVEs counted apart (they cost the same in any
  // state of the overlay), and connections the cores opened.
  std::uint64_t protocol_messages() const { return protocol_messages_; }
  std::uint64_t keepalive_messages() const { return keepalive_messages_; }
  std::uint64_t connects() const { return connects_; }
  std::size_t pending_events() const { return heap_.size(); }
  std::size_t open_links() const { return links_.size() - free_links_.size(); }
  // Inputs that arrived in a state the model says cannot happen (must stay 0; the tests check it).
  std::uint64_t anomalies() const { return anomalies_; }
  // A hash of every input handed to a core so far (time, node, kind, peer, message type).
  std::uint64_t trace_hash() const { return trace_hash_; }

 private:
  enum class SideState : std::uint8_t { none, opening, joining, up };
  enum class ItemKind : std::uint8_t { syn, ack, message, fin, rst };
  enum class EventKind : std::uint8_t { deliver, timer, unknown_connect_failed, app_timer };

  // One end of a link. `conn` names the connection attempt the side belongs to; items carry
  // the conn of their sender and are ignored by a side of another conn.
  struct Side {
    SideState state = SideState::none;
    std::uint32_t conn = 0;
  };
  struct Link {
    std::uint32_t node[2] = {0, 0};  // node[0] < node[1]
    Side side[2];
    Duration::rep last_delivery[2] = {0, 0};  // per direction d: from node[d] to node[1-d]
    std::uint32_t in_flight = 0;
    std::uint32_t syn_in_flight[2] = {0, 0};  // conn of a handshake still travelling, per direction
    std::vector<std::uint32_t> held;  // items of a joining side, sent after its link is up
  };
  // What a message item carries: a HyParView message, or an upper layer's bytes.
  using Body = std::variant<hyparview::Message, std::vector<std::uint8_t>>;
  struct Item {
    Body body;
    std::uint32_t link = 0;
    std::uint32_t conn = 0;
    std::uint8_t dir = 0;
    ItemKind kind = ItemKind::message;
  };
  struct Event {
    Duration::rep at = 0;
    std::uint64_t seq = 0;
    std::uint32_t node = 0;
    std::uint32_t slot = 0;  // item, timer or failed-address slot
    EventKind kind = EventKind::deliver;
  };
  struct LinkRef {
    std::uint32_t peer = 0;
    std::uint32_t link = 0;
  };
  struct Node {
    std::unique_ptr<hyparview::Core> core;
    PeerId id;
    bool alive = true;
    AppCounters counters;
    std::vector<LinkRef> links;  // the links this node is an end of, unordered
  };
  // Slots reused through a free list, so steady-state runs do not allocate per event.
  template <class T>
  struct Slab {
    std::vector<T> items;
    std::vector<std::uint32_t> free;
    std::uint32_t put(T value);
    T take(std::uint32_t slot);
  };

  // core plumbing
  void drain(std::size_t node);
  void apply(std::size_t node, hyparview::Output& output);
  void notify(const InputEvent& input);
  void count_app_event(std::size_t node, const hyparview::Output& output);

  // links
  std::optional<std::uint32_t> node_of(const Address& address) const;
  std::uint32_t find_or_create_link(std::uint32_t a, std::uint32_t b);
  std::optional<std::uint32_t> find_link(std::uint32_t a, std::uint32_t b) const;
  // `node`'s end of its existing link to `peer_address`, if any.
  struct LinkEnd {
    std::uint32_t link = 0;
    std::uint8_t dir = 0;  // the direction in which `node` sends
  };
  std::optional<LinkEnd> existing_end(std::uint32_t node, const Address& peer_address) const;
  void release_link_if_idle(std::uint32_t link_id);
  void do_connect(std::uint32_t node, const Address& peer);
  void do_send(std::uint32_t node, const Address& peer, Body&& body);
  void do_close(std::uint32_t node, const Address& peer);
  void enqueue(std::uint32_t link_id, std::uint8_t dir, ItemKind kind, std::uint32_t conn, Body body,
               Duration extra_delay = Duration::zero());
  void flush_held(std::uint32_t link_id);
  void crash_links(std::uint32_t node);

  // events
  void push_event(Duration::rep at, std::uint32_t node, std::uint32_t slot, EventKind kind);
  void deliver(const Event& event);
  std::optional<InputKind> arrive(const Item& item, std::uint32_t link_id);
  void lost_at_dead_node(const Item& item, std::uint32_t link_id);
  void fire_timer(const Event& event);
  void fire_unknown_connect_failed(const Event& event);
  void fire_app_timer(const Event& event);
  void deliver_app(std::uint32_t receiver, std::uint32_t sender, const std::vector<std::uint8_t>& bytes);
  Duration latency();

  Config config_;
  Rng rng_;
  Instant now_{};
  std::vector<Node> nodes_;
  std::vector<hyparview::Output> output_buffer_;  // drain()'s, kept for its capacity
  std::size_t alive_count_ = 0;

  std::vector<Event> heap_;  // binary min-heap on (at, seq)
  std::uint64_t next_seq_ = 0;
  Slab<Item> items_;
  Slab<hyparview::Timer> timers_;
  Slab<Address> failed_addresses_;
  Slab<std::uint64_t> app_timers_;
  UpperLayer* upper_ = nullptr;
  std::uint32_t held_kinds_ = 0;  // bit per hyparview::TimerKind
  struct HeldTimer {
    std::uint32_t node = 0;
    std::uint32_t slot = 0;  // in timers_
  };
  std::vector<HeldTimer> held_timers_;

  std::vector<Link> links_;
  std::vector<std::uint32_t> free_links_;
  bool cut_ = false;
  std::vector<std::uint8_t> group_;       // per node, for the cut in place
  std::vector<std::uint32_t> cut_held_;   // item slots held by the cut, in the order they were sent
  std::uint32_t next_conn_ = 1;

  std::function<void(const InputEvent&)> on_input_;
  std::function<void(std::size_t, const hyparview::Output&, Instant)> on_app_event_;
  std::function<void(const Progress&)> on_progress_;
  std::uint64_t progress_every_ = 1;

  AppCounters totals_;
  std::uint64_t events_processed_ = 0;
  std::uint64_t anomalies_ = 0;
  std::uint64_t protocol_messages_ = 0;
  std::uint64_t keepalive_messages_ = 0;
  std::uint64_t connects_ = 0;
  std::uint64_t trace_hash_ = 0;
};

}  // namespace hypar::sim
