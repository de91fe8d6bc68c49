// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/simulator.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>
#include <string>

namespace hypar::sim {
namespace {

using hyparview::Message;
using hyparview::Output;

// Removes the reference to `link` from a node's unordered link list.
template <class Refs>
void erase_link_ref(Refs& refs, std::uint32_t link) {
  auto it = std::find_if(refs.begin(), refs.end(), [link](const auto& ref) { return ref.link == link; });
  assert(it != refs.end());
  *it = refs.back();
  refs.pop_back();
}

// Order-sensitive 64-bit mixing for the trace hash.
std::uint64_t mix(std::uint64_t hash, std::uint64_t value) {
  hash ^= value + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
  return hash * 0xbf58476d1ce4e5b9ULL;
}

std::string join_problems(const std::vector<std::string>& problems) {
  std::string text = "invalid simulator options:";
  for (const auto& p : problems) text += " " + p;
  return text;
}

constexpr std::size_t kMaxNodes = (1u << 24) - 2;  // x.y.z = index + 1 must fit in 24 bits

}  // namespace

template <class T>
std::uint32_t Simulator::Slab<T>::put(T value) {
  if (!free.empty()) {
    const std::uint32_t slot = free.back();
    free.pop_back();
    items[slot] = std::move(value);
    return slot;
  }
  items.push_back(std::move(value));
  return static_cast<std::uint32_t>(items.size() - 1);
}

template <class T>
T Simulator::Slab<T>::take(std::uint32_t slot) {
  T value = std::move(items[slot]);
  free.push_back(slot);
  return value;
}

Simulator::Simulator(Config config) : config_(std::move(config)), rng_(mix_seed(config_.seed, ~0ULL)) {
  std::vector<std::string> problems = config_.options.validate();
  if (config_.latency_min < Duration::zero()) problems.push_back("latency_min must not be negative.");
  if (config_.latency_max < config_.latency_min) problems.push_back("latency_max must be >= latency_min.");
  if (config_.connect_fail_delay < Duration::zero()) problems.push_back("connect_fail_delay must not be negative.");
  if (config_.port == 0) problems.push_back("port must not be 0.");
  if (!problems.empty()) throw std::invalid_argument(join_problems(problems));
}

Simulator::~Simulator() = default;

// ---------------------------------------------------------------- driving

std::size_t Simulator::add_node() {
  if (nodes_.size() >= kMaxNodes) throw std::length_error("simulator: too many nodes");
  const std::size_t index = nodes_.size();
  Node node;
  node.id = PeerId{address_of(index), "n" + std::to_string(index), 1};
  node.core = std::make_unique<hyparview::Core>(node.id, config_.options, mix_seed(config_.seed, index));
  nodes_.push_back(std::move(node));
  ++alive_count_;
  nodes_[index].core->start(now_);
  drain(index);
  return index;
}

void Simulator::join(std::size_t node, const std::vector<std::size_t>& contacts) {
  std::vector<Address> addresses;
  addresses.reserve(contacts.size());
  for (std::size_t c : contacts) addresses.push_back(address_of(c));
  join_addresses(node, std::move(addresses));
}

void Simulator::join_addresses(std::size_t node, std::vector<Address> contacts) {
  if (!nodes_.at(node).alive) return;
  nodes_[node].core->join(std::move(contacts), now_);
  drain(node);
}

bool Simulator::run_for(Duration duration, std::uint64_t max_events) {
  return run_until(now_ + duration, max_events);
}

bool Simulator::run_until(Instant deadline, std::uint64_t max_events) {
  const Duration::rep deadline_ns = (deadline - Instant{}).count();
  const auto later = [](const Event& a, const Event& b) { return a.at != b.at ? a.at > b.at : a.seq > b.seq; };
  std::uint64_t processed = 0;
  while (!heap_.empty() && heap_.front().at <= deadline_ns) {
    if (processed == max_events) return false;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Event event = heap_.back();
    heap_.pop_back();
    now_ = Instant{} + Duration(event.at);
    ++processed;
    ++events_processed_;
    switch (event.kind) {
      case EventKind::deliver: deliver(event); break;
      case EventKind::timer: fire_timer(event); break;
      case EventKind::app_timer: fire_app_timer(event); break;
      case EventKind::unknown_connect_failed: fire_unknown_connect_failed(event); break;
    }
    if (on_progress_ && events_processed_ % progress_every_ == 0) {
      on_progress_(Progress{now_, events_processed_, nodes_.size(), alive_count_});
    }
  }
  if (deadline > now_) now_ = deadline;
  return true;
}

void Simulator::kill(std::size_t node) {
  if (!nodes_.at(node).alive) return;
  nodes_[node].alive = false;
  --alive_count_;
  crash_links(static_cast<std::uint32_t>(node));
}

void Simulator::leave(std::size_t node) {
  if (!nodes_.at(node).alive) return;
  nodes_[node].core->leave(now_);
  drain(node);
  kill(node);  // links the core did not close break like a crash
}

void Simulator::send_app(std::size_t node, const Address& peer, std::vector<std::uint8_t> bytes) {
  if (!nodes_.at(node).alive) return;
  do_send(static_cast<std::uint32_t>(node), peer, Body{std::move(bytes)});
}

void Simulator::schedule_app_timer(std::size_t node, Instant at, std::uint64_t cookie) {
  if (!nodes_.at(node).alive) return;
  at = std::max(at, now_);
  push_event((at - Instant{}).count(), static_cast<std::uint32_t>(node), app_timers_.put(cookie), EventKind::app_timer);
}

void Simulator::hold_timers(hyparview::TimerKind kind) { held_kinds_ |= 1u << static_cast<unsigned>(kind); }

void Simulator::release_timers() {
  held_kinds_ = 0;
  const Duration::rep at = (now_ - Instant{}).count();
  for (const HeldTimer& held : held_timers_) push_event(at, held.node, held.slot, EventKind::timer);
  held_timers_.clear();
}

void Simulator::cut(std::vector<std::uint8_t> group) {
  if (cut_) heal();
  group_ = std::move(group);
  cut_ = true;
}

bool Simulator::across_cut(std::size_t a, std::size_t b) const {
  if (!cut_) return false;
  const auto side = [this](std::size_t n) { return n < group_.size() ? group_[n] : std::uint8_t{0}; };
  return side(a) != side(b);
}

void Simulator::heal() {
  if (!cut_) return;
  cut_ = false;
  group_.clear();
  std::vector<std::uint32_t> held = std::move(cut_held_);
  cut_held_.clear();
  // Connections (link, conn) whose handshake is discarded: their initiator closed them meanwhile.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> abandoned;
  const auto is_abandoned = [&](std::uint32_t link, std::uint32_t conn) {
    return std::find(abandoned.begin(), abandoned.end(), std::pair{link, conn}) != abandoned.end();
  };
  for (const std::uint32_t slot : held) {
    Item item = items_.take(slot);
    Link& link = links_[item.link];
    --link.in_flight;
    if (item.kind == ItemKind::syn) {
      if (link.syn_in_flight[item.dir] == item.conn) link.syn_in_flight[item.dir] = 0;
      const Side& initiator = link.side[item.dir];
      if (initiator.conn != item.conn || initiator.state == SideState::none) {
        abandoned.emplace_back(item.link, item.conn);
        // A peer that was sharing the abandoned connection learns that it failed.
        const Side& sharer = link.side[1 - item.dir];
        if (sharer.state == SideState::joining && sharer.conn == item.conn) {
          enqueue(item.link, item.dir, ItemKind::rst, item.conn, Message{});
        }
      }
    }
    if (is_abandoned(item.link, item.conn)) {
      release_link_if_idle(item.link);
      continue;
    }
    enqueue(item.link, item.dir, item.kind, item.conn, std::move(item.body));
  }
}

void Simulator::inject(std::size_t node, const Output& output) {
  Output copy = output;
  apply(node, copy);
}

// ---------------------------------------------------------------- getters

Address Simulator::address_of(std::size_t node) const {
  const std::size_t v = node + 1;
  return Address::v4(127, static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
                     static_cast<std::uint8_t>(v), config_.port);
}

std::optional<std::size_t> Simulator::index_of(const Address& address) const {
  auto node = node_of(address);
  if (!node) return std::nullopt;
  return *node;
}

std::optional<std::uint32_t> Simulator::node_of(const Address& address) const {
  if (address.family != Address::Family::v4 || address.ip[0] != 127 || address.port != config_.port) {
    return std::nullopt;
  }
  const std::uint32_t v = (std::uint32_t{address.ip[1]} << 16) | (std::uint32_t{address.ip[2]} << 8) | address.ip[3];
  if (v == 0 || v - 1 >= nodes_.size()) return std::nullopt;
  return v - 1;
}

std::vector<std::size_t> Simulator::active_view(std::size_t node) const {
  std::vector<std::size_t> view;
  if (!nodes_.at(node).alive) return view;
  for (const PeerId& peer : nodes_[node].core->active_view()) {
    if (auto i = node_of(peer.address)) view.push_back(*i);
  }
  return view;
}

std::vector<std::size_t> Simulator::passive_view(std::size_t node) const {
  std::vector<std::size_t> view;
  if (!nodes_.at(node).alive) return view;
  for (const PeerId& peer : nodes_[node].core->passive_view()) {
    if (auto i = node_of(peer.address)) view.push_back(*i);
  }
  return view;
}

ViewGraph Simulator::views() const {
  ViewGraph graph;
  graph.alive.resize(nodes_.size());
  graph.active.resize(nodes_.size());
  graph.passive.resize(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    graph.alive[i] = nodes_[i].alive;
    graph.active[i] = active_view(i);
    graph.passive[i] = passive_view(i);
  }
  return graph;
}

// ---------------------------------------------------------------- core plumbing

void Simulator::drain(std::size_t node) {
  std::vector<Output> outputs = std::move(output_buffer_);  // reused; a nested drain gets a fresh one
  outputs.clear();
  nodes_[node].core->take_outputs(outputs);
  for (Output& output : outputs) apply(node, output);
  outputs.clear();
  output_buffer_ = std::move(outputs);
}

void Simulator::apply(std::size_t node, Output& output) {
  const auto n = static_cast<std::uint32_t>(node);
  if (auto* send = std::get_if<hyparview::Send>(&output)) {
    ++(std::holds_alternative<hyparview::Keepalive>(send->message) ? keepalive_messages_ : protocol_messages_);
    do_send(n, send->to, Body{std::move(send->message)});
  } else if (auto* timer = std::get_if<hyparview::ScheduleTimer>(&output)) {
    const Instant at = std::max(timer->at, now_);
    push_event((at - Instant{}).count(), n, timers_.put(timer->timer), EventKind::timer);
  } else if (auto* connect = std::get_if<hyparview::Connect>(&output)) {
    ++connects_;
    do_connect(n, connect->peer);
  } else if (auto* close = std::get_if<hyparview::Close>(&output)) {
    do_close(n, close->peer);
  } else {
    count_app_event(node, output);
  }
}

void Simulator::count_app_event(std::size_t node, const Output& output) {
  AppCounters& c = nodes_[node].counters;
  if (std::holds_alternative<hyparview::PeerUp>(output)) {
    ++c.peer_up;
    ++totals_.peer_up;
  } else if (std::holds_alternative<hyparview::PeerDown>(output)) {
    ++c.peer_down;
    ++totals_.peer_down;
  } else if (std::holds_alternative<hyparview::JoinSucceeded>(output)) {
    ++c.join_succeeded;
    ++totals_.join_succeeded;
  } else if (std::holds_alternative<hyparview::JoinFailed>(output)) {
    ++c.join_failed;
    ++totals_.join_failed;
  }
  if (upper_ && nodes_[node].alive) upper_->on_app_event(node, output, now_);
  if (on_app_event_) on_app_event_(node, output, now_);
}

// Hands one input to a live node's core, records it, and drains the core's outputs.
void Simulator::notify(const InputEvent& input) {
  hyparview::Core& core = *nodes_[input.node].core;
  const Address* peer = input.peer == InputEvent::kNoNode ? nullptr : &nodes_[input.peer].id.address;
  switch (input.kind) {
    case InputKind::link_up: core.link_up(nodes_[input.peer].id, now_); break;
    case InputKind::link_down: core.link_down(*peer, now_); break;
    case InputKind::connect_failed: core.connect_failed(*peer, now_); break;
    case InputKind::received: core.received(*peer, *input.message, now_); break;
    case InputKind::timer: core.timer_fired(*input.timer, now_); break;
  }
  std::uint64_t h = trace_hash_;
  h = mix(h, static_cast<std::uint64_t>((now_ - Instant{}).count()));
  h = mix(h, input.node);
  h = mix(h, static_cast<std::uint64_t>(input.kind));
  h = mix(h, input.peer);
  if (input.message) h = mix(h, input.message->index());
  if (input.timer) h = mix(h, static_cast<std::uint64_t>(input.timer->kind));
  trace_hash_ = h;
  if (on_input_) on_input_(input);
  drain(input.node);
}

// ---------------------------------------------------------------- links

std::optional<std::uint32_t> Simulator::find_link(std::uint32_t a, std::uint32_t b) const {
  if (nodes_[b].links.size() < nodes_[a].links.size()) std::swap(a, b);
  for (const LinkRef& ref : nodes_[a].links) {
    if (ref.peer == b) return ref.link;
  }
  return std::nullopt;
}

std::uint32_t Simulator::find_or_create_link(std::uint32_t a, std::uint32_t b) {
  if (auto found = find_link(a, b)) return *found;
  std::uint32_t id;
  if (!free_links_.empty()) {
    id = free_links_.back();
    free_links_.pop_back();
  } else {
    id = static_cast<std::uint32_t>(links_.size());
    links_.emplace_back();
  }
  Link& link = links_[id];
  link = Link{};
  link.node[0] = std::min(a, b);
  link.node[1] = std::max(a, b);
  nodes_[a].links.push_back(LinkRef{b, id});
  nodes_[b].links.push_back(LinkRef{a, id});
  return id;
}

void Simulator::release_link_if_idle(std::uint32_t link_id) {
  Link& link = links_[link_id];
  if (link.side[0].state != SideState::none || link.side[1].state != SideState::none || link.in_flight != 0) return;
  assert(link.held.empty());
  erase_link_ref(nodes_[link.node[0]].links, link_id);
  erase_link_ref(nodes_[link.node[1]].links, link_id);
  free_links_.push_back(link_id);
}

Duration Simulator::latency() {
  const auto span = static_cast<std::uint64_t>((config_.latency_max - config_.latency_min).count());
  return config_.latency_min + Duration(static_cast<Duration::rep>(rng_.below(span + 1)));
}

void Simulator::enqueue(std::uint32_t link_id, std::uint8_t dir, ItemKind kind, std::uint32_t conn, Body body,
                        Duration extra_delay) {
  Link& link = links_[link_id];
  if (cut_ && across_cut(link.node[0], link.node[1])) {  // held until heal(), which enqueues it again
    ++link.in_flight;
    if (kind == ItemKind::syn) link.syn_in_flight[dir] = conn;
    cut_held_.push_back(items_.put(Item{std::move(body), link_id, conn, dir, kind}));
    return;
  }
  const Duration::rep earliest = (now_ - Instant{} + latency() + extra_delay).count();
  // FIFO per direction: never before the previous item of this direction.
  const Duration::rep at = std::max(earliest, link.last_delivery[dir]);
  link.last_delivery[dir] = at;
  ++link.in_flight;
  if (kind == ItemKind::syn) link.syn_in_flight[dir] = conn;
  const std::uint32_t receiver = link.node[1 - dir];
  const std::uint32_t slot = items_.put(Item{std::move(body), link_id, conn, dir, kind});
  push_event(at, receiver, slot, EventKind::deliver);
}

void Simulator::do_connect(std::uint32_t node, const Address& peer_address) {
  const auto peer = node_of(peer_address);
  if (!peer || *peer == node) {
    const Duration::rep at = (now_ - Instant{} + latency() + config_.connect_fail_delay).count();
    push_event(at, node, failed_addresses_.put(peer_address), EventKind::unknown_connect_failed);
    return;
  }
  const std::uint32_t link_id = find_or_create_link(node, *peer);
  Link& link = links_[link_id];
  const std::uint8_t dir = link.node[0] == node ? 0 : 1;
  Side& me = link.side[dir];
  const Side& other = link.side[1 - dir];
  if (me.state != SideState::none) return;  // a link exists or is opening
  if (other.state == SideState::opening && link.syn_in_flight[1 - dir] == other.conn) {
    // The peer is connecting to us: share its connection; our sends wait for its handshake.
    me = Side{SideState::joining, other.conn};
    return;
  }
  me = Side{SideState::opening, next_conn_++};
  enqueue(link_id, dir, ItemKind::syn, me.conn, Message{});
}

std::optional<Simulator::LinkEnd> Simulator::existing_end(std::uint32_t node, const Address& peer_address) const {
  const auto peer = node_of(peer_address);
  if (!peer) return std::nullopt;
  const auto found = find_link(node, *peer);
  if (!found) return std::nullopt;
  return LinkEnd{*found, static_cast<std::uint8_t>(links_[*found].node[0] == node ? 0 : 1)};
}

void Simulator::do_send(std::uint32_t node, const Address& peer_address, Body&& body) {
  const auto end = existing_end(node, peer_address);
  if (!end) return;
  const auto [link_id, dir] = *end;
  Link& link = links_[link_id];
  const Side me = link.side[dir];
  switch (me.state) {
    case SideState::none: return;  // no link: dropped
    case SideState::joining:
      link.held.push_back(items_.put(Item{std::move(body), link_id, me.conn, dir, ItemKind::message}));
      return;
    case SideState::opening:
    case SideState::up: enqueue(link_id, dir, ItemKind::message, me.conn, std::move(body)); return;
  }
}

void Simulator::do_close(std::uint32_t node, const Address& peer_address) {
  const auto end = existing_end(node, peer_address);
  if (!end) return;
  const auto [link_id, dir] = *end;
  Link& link = links_[link_id];
  const Side me = link.side[dir];
  link.side[dir] = Side{};
  switch (me.state) {
    case SideState::none: return;
    case SideState::joining:  // nothing was sent yet
      for (std::uint32_t slot : link.held) items_.take(slot);
      link.held.clear();
      release_link_if_idle(link_id);
      return;
    case SideState::opening:
    case SideState::up: enqueue(link_id, dir, ItemKind::fin, me.conn, Message{}); return;
  }
}

void Simulator::flush_held(std::uint32_t link_id) {
  std::vector<std::uint32_t> held = std::move(links_[link_id].held);
  links_[link_id].held.clear();
  for (std::uint32_t slot : held) {
    Item item = items_.take(slot);
    enqueue(link_id, item.dir, ItemKind::message, item.conn, std::move(item.body));
  }
}

void Simulator::crash_links(std::uint32_t node) {
  // Copy and sort by peer: the list's order depends on history we do not want to depend on.
  std::vector<LinkRef> refs = nodes_[node].links;
  std::sort(refs.begin(), refs.end(), [](const LinkRef& a, const LinkRef& b) { return a.peer < b.peer; });
  for (const LinkRef& ref : refs) {
    const std::uint32_t link_id = ref.link;
    Link& link = links_[link_id];
    const std::uint8_t dir = link.node[0] == node ? 0 : 1;
    const Side me = link.side[dir];
    if (me.state == SideState::none) continue;
    link.side[dir] = Side{};
    if (me.state == SideState::joining) {
      for (std::uint32_t slot : link.held) items_.take(slot);
      link.held.clear();
    }
    // The peer learns of the crash one latency later, after what we already sent; with
    // on_send, an open link stays silent until the peer sends on it (see deliver()).
    const SideState peer_state = link.side[1 - dir].state;
    const bool silent = config_.crash_notice == CrashNotice::on_send && peer_state == SideState::up;
    if (peer_state != SideState::none && !silent) enqueue(link_id, dir, ItemKind::rst, me.conn, Message{});
    release_link_if_idle(link_id);
  }
}

// ---------------------------------------------------------------- events

void Simulator::push_event(Duration::rep at, std::uint32_t node, std::uint32_t slot, EventKind kind) {
  heap_.push_back(Event{at, next_seq_++, node, slot, kind});
  std::push_heap(heap_.begin(), heap_.end(),
                 [](const Event& a, const Event& b) { return a.at != b.at ? a.at > b.at : a.seq > b.seq; });
}

// An item reaches the other end of its link: the receiver's link state changes, and its core hears
// of it (or its upper layer, for application bytes).
void Simulator::deliver(const Event& event) {
  Item item = items_.take(event.slot);
  const std::uint32_t link_id = item.link;
  Link& link = links_[link_id];
  --link.in_flight;
  const std::uint8_t dir = item.dir;
  if (item.kind == ItemKind::syn && link.syn_in_flight[dir] == item.conn) link.syn_in_flight[dir] = 0;
  const std::uint32_t sender = link.node[dir];
  const std::uint32_t receiver = link.node[1 - dir];
  std::optional<InputKind> kind;
  if (nodes_[receiver].alive) {
    kind = arrive(item, link_id);
  } else {
    lost_at_dead_node(item, link_id);
  }
  release_link_if_idle(link_id);
  if (!kind) return;
  if (const auto* bytes = std::get_if<std::vector<std::uint8_t>>(&item.body); bytes && *kind == InputKind::received) {
    deliver_app(receiver, sender, *bytes);
    return;
  }
  InputEvent input;
  input.at = now_;
  input.node = receiver;
  input.peer = sender;
  input.kind = *kind;
  if (*kind == InputKind::received) input.message = &std::get<Message>(item.body);
  notify(input);
}

// The item reaches a live receiver: the transitions of the receiver's side of the link, and the
// input its core is to be told of, if any.
std::optional<InputKind> Simulator::arrive(const Item& item, std::uint32_t link_id) {
  Link& link = links_[link_id];
  const std::uint8_t dir = item.dir;
  Side& side = link.side[1 - dir];
  const bool same_conn = side.conn == item.conn;
  switch (item.kind) {
    case ItemKind::syn: {
      if (!nodes_[link.node[dir]].alive) return std::nullopt;  // the initiator died before the handshake finished
      const bool fresh = side.state == SideState::none || (side.state == SideState::joining && same_conn);
      if (!fresh) {
        // The receiver is busy with a connection of its own. That is only possible when the
        // initiator closed this one while it was still opening (its FIN follows; the receiver
        // then dialled, or joined a later dial of the initiator): a dial given up before its
        // handshake completed, which the receiver never sees. Anything else breaks the model.
        if (link.side[dir].conn == item.conn) ++anomalies_;
        return std::nullopt;
      }
      const bool was_joining = side.state == SideState::joining;
      side = Side{SideState::up, item.conn};
      // The initiator hears back before anything we send on this link.
      enqueue(link_id, static_cast<std::uint8_t>(1 - dir), ItemKind::ack, item.conn, Message{});
      if (was_joining) flush_held(link_id);
      return InputKind::link_up;
    }
    case ItemKind::ack:
      if (side.state != SideState::opening || !same_conn) return std::nullopt;
      side.state = SideState::up;
      return InputKind::link_up;
    case ItemKind::message:
      if (side.state != SideState::up || !same_conn) return std::nullopt;
      return InputKind::received;
    case ItemKind::fin:
      if (side.state != SideState::up || !same_conn) return std::nullopt;
      side = Side{};
      return InputKind::link_down;
    case ItemKind::rst: {
      if (side.state == SideState::none || !same_conn) return std::nullopt;
      const InputKind kind = side.state == SideState::up ? InputKind::link_down : InputKind::connect_failed;
      if (side.state == SideState::joining) {
        for (std::uint32_t slot : link.held) items_.take(slot);
        link.held.clear();
      }
      side = Side{};
      return kind;
    }
  }
  return std::nullopt;
}

// Nobody listens at a dead receiver: a handshake is refused after the connect timeout; the rest
// is lost, except that with CrashNotice::on_send a write breaks the sender's link.
void Simulator::lost_at_dead_node(const Item& item, std::uint32_t link_id) {
  const Link& link = links_[link_id];
  const std::uint8_t dir = item.dir;
  const std::uint32_t sender = link.node[dir];
  if (item.kind == ItemKind::syn && nodes_[sender].alive) {
    enqueue(link_id, static_cast<std::uint8_t>(1 - dir), ItemKind::rst, item.conn, Message{},
            config_.connect_fail_delay);
  } else if (item.kind == ItemKind::message && config_.crash_notice == CrashNotice::on_send &&
             nodes_[sender].alive && link.side[dir].state == SideState::up && link.side[dir].conn == item.conn) {
    // A write to a vanished host: the sender's link breaks (later copies are ignored there).
    enqueue(link_id, static_cast<std::uint8_t>(1 - dir), ItemKind::rst, item.conn, Message{});
  }
}

void Simulator::fire_timer(const Event& event) {
  if (held_kinds_ & (1u << static_cast<unsigned>(timers_.items[event.slot].kind))) {
    held_timers_.push_back(HeldTimer{event.node, event.slot});
    return;
  }
  const hyparview::Timer timer = timers_.take(event.slot);
  if (!nodes_[event.node].alive) return;
  InputEvent input;
  input.at = now_;
  input.node = event.node;
  input.kind = InputKind::timer;
  input.timer = &timer;
  notify(input);
}

void Simulator::fire_unknown_connect_failed(const Event& event) {
  const Address address = failed_addresses_.take(event.slot);
  if (!nodes_[event.node].alive) return;
  nodes_[event.node].core->connect_failed(address, now_);
  trace_hash_ = mix(mix(trace_hash_, (now_ - Instant{}).count()), event.node);
  if (on_input_) {
    InputEvent input;
    input.at = now_;
    input.node = event.node;
    input.kind = InputKind::connect_failed;
    on_input_(input);
  }
  drain(event.node);
}

void Simulator::fire_app_timer(const Event& event) {
  const std::uint64_t cookie = app_timers_.take(event.slot);
  if (!nodes_[event.node].alive || !upper_) return;
  trace_hash_ = mix(mix(mix(trace_hash_, static_cast<std::uint64_t>((now_ - Instant{}).count())), event.node), cookie);
  upper_->on_app_timer(event.node, cookie, now_);
}

// Hands an upper layer's bytes to the receiving node's layer; part of the trace like core inputs.
void Simulator::deliver_app(std::uint32_t receiver, std::uint32_t sender, const std::vector<std::uint8_t>& bytes) {
  std::uint64_t h = trace_hash_;
  h = mix(h, static_cast<std::uint64_t>((now_ - Instant{}).count()));
  h = mix(h, receiver);
  h = mix(h, sender);
  h = mix(h, bytes.size());
  trace_hash_ = h;
  if (upper_) upper_->on_app_message(receiver, sender, bytes, now_);
}

}  // namespace hypar::sim
