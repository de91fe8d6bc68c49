// SPDX-License-Identifier: Apache-2.0
#include "hypar/plumtree/core.hpp"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>

#include "hypar/invariants.hpp"

namespace hypar::plumtree {

const char* describe(BroadcastError error) {
  switch (error) {
    case BroadcastError::payload_too_large: return "payload larger than max_payload_bytes";
    case BroadcastError::already_seen: return "a message with this content id was already broadcast or received";
    case BroadcastError::stopped: return "the broadcaster has stopped";
  }
  return "unknown broadcast error";
}

namespace {

Options checked(Options options) {
  const auto problems = options.validate();
  if (!problems.empty()) {
    std::string text = "invalid Plumtree options:";
    for (const auto& p : problems) text += " " + p + ";";
    throw std::invalid_argument(text);
  }
  return options;
}

std::uint16_t next_hop(std::uint16_t hops) {
  return hops == std::numeric_limits<std::uint16_t>::max() ? hops : static_cast<std::uint16_t>(hops + 1);
}

// The age to put on the wire for a message born at `born`: rounded up to whole milliseconds, so
// that it never under-states; saturates (a message that old is long dead).
std::uint32_t age_ms(Instant born, Instant now) {
  const std::int64_t ms = std::chrono::ceil<milliseconds>(now - born).count();
  constexpr std::uint32_t kMax = std::numeric_limits<std::uint32_t>::max();
  if (ms <= 0) return 0;
  return ms >= std::int64_t{kMax} ? kMax : static_cast<std::uint32_t>(ms);
}

// Drops the front entries of `queue` that are due, erasing them from `map` unless the map holds
// a newer life of the id (which expires later).
template <class Queue, class Map>
void expire_queue(Queue& queue, Map& map, Instant now) {
  while (!queue.empty() && queue.front().at <= now) {
    auto it = map.find(queue.front().id);
    if (it != map.end() && it->second.expires <= now) map.erase(it);
    queue.pop_front();
  }
}

}  // namespace

Core::Core(Address self, Options options, std::uint64_t seed)
    : self_(self), options_(checked(std::move(options))), rng_(seed) {
  next_seq_ = rng_.next_u64() >> 1;  // room for 2^63 broadcasts before wrapping
}

// ---------------------------------------------------------------- inputs

void Core::neighbor_up(const Address& peer, Instant now) {
  const CheckOnReturn check(*this, "plumtree::Core", "neighbor_up");
  advance(now);
  if (peer == self_) return;
  auto at = std::lower_bound(peers_.begin(), peers_.end(), peer,
                             [](const Peer& p, const Address& a) { return p.address < a; });
  if (at != peers_.end() && at->address == peer) return;
  peers_.insert(at, Peer{peer, Mode::eager});  // new neighbours start as tree branches (paper, 3.4)
  // Catch-up (not in the paper): so that a node HyParView churn cut off for a moment grafts what
  // was broadcast meanwhile.
  announce_cache(peer, now);
}

void Core::neighbor_down(const Address& peer, Instant now) {
  const CheckOnReturn check(*this, "plumtree::Core", "neighbor_down");
  advance(now);
  std::erase_if(peers_, [&](const Peer& p) { return p.address == peer; });
  ihave_queue_.erase(peer);
  // Its announcements stay in missing_: graft timers skip peers that are no longer neighbours.
}

void Core::peer_congested(const Address& peer, Instant now) {
  advance(now);
  if (is_neighbor(peer)) set_mode(peer, Mode::lazy);
}

void Core::peer_drained(const Address& peer, Instant now) {
  advance(now);
  if (is_neighbor(peer)) announce_cache(peer, now);
}

BroadcastResult Core::broadcast(std::vector<std::uint8_t> payload, Instant now) {
  const CheckOnReturn check(*this, "plumtree::Core", "broadcast");
  advance(now);
  if (payload.size() > options_.max_payload_bytes) return {BroadcastError::payload_too_large};
  MessageId id{self_, 0};
  if (options_.id_scheme == IdScheme::sequence) {
    id.seq = next_seq_++;
  } else {
    id.seq = content_hash(payload);
    if (seen_.contains(id)) return {BroadcastError::already_seen};
  }
  deliver(id, 0, std::nullopt, payload, now, now);
  return {id};
}

void Core::received(const Address& from, const Message& message, Instant now) {
  const CheckOnReturn check(*this, "plumtree::Core", "received");
  advance(now);
  if (is_payload(message)) {
    ++stats_.payload_received;
  } else {
    ++stats_.control_received;
  }
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Gossip>) on_gossip(from, m, now);
        if constexpr (std::is_same_v<T, IHave>) on_ihave(from, m, now);
        if constexpr (std::is_same_v<T, Graft>) on_graft(from, m, now);
        if constexpr (std::is_same_v<T, Prune>) on_prune(from);
      },
      message);
}

void Core::timer_fired(const Timer& timer, Instant now) {
  const CheckOnReturn check(*this, "plumtree::Core", "timer_fired");
  advance(now);
  switch (timer.kind) {
    case TimerKind::ihave_flush: on_flush_timer(timer, now); break;
    case TimerKind::graft: on_graft_timer(timer, now); break;
    case TimerKind::sweep: on_sweep_timer(timer, now); break;
  }
}

void Core::take_outputs(std::vector<Output>& out) {
  if (out.empty()) {
    out.swap(outputs_);  // the caller's buffer becomes ours: no allocation in steady state
  } else {
    out.insert(out.end(), std::make_move_iterator(outputs_.begin()), std::make_move_iterator(outputs_.end()));
  }
  outputs_.clear();
}

// ---------------------------------------------------------------- getters

std::vector<Address> Core::eager_peers() const {
  std::vector<Address> out;
  for (const Peer& p : peers_) {
    if (p.mode == Mode::eager) out.push_back(p.address);
  }
  return out;
}

std::vector<Address> Core::lazy_peers() const {
  std::vector<Address> out;
  for (const Peer& p : peers_) {
    if (p.mode == Mode::lazy) out.push_back(p.address);
  }
  return out;
}

bool Core::is_eager(const Address& peer) const {
  const Peer* p = find_peer(peer);
  return p && p->mode == Mode::eager;
}

bool Core::is_lazy(const Address& peer) const {
  const Peer* p = find_peer(peer);
  return p && p->mode == Mode::lazy;
}

// ---------------------------------------------------------------- messages

void Core::on_gossip(const Address& from, const Gossip& m, Instant now) {
  if (m.payload.size() > options_.max_payload_bytes) {
    ++stats_.oversized_dropped;
    return;
  }
  if (seen_.contains(m.id)) {
    // A second copy: this link is redundant for the tree (paper, 3.4).
    ++stats_.duplicates;
    if (is_neighbor(from)) {
      set_mode(from, Mode::lazy);
      send(from, Prune{});
    }
    return;
  }
  const Instant born = born_at(m.age_ms, now);
  if (!alive(born, now)) {
    // Older than the cache lifetime: every node has dropped it from its cache, and a node that
    // delivered it may have forgotten it already, so delivering it could be a second delivery.
    ++stats_.expired_dropped;
    return;
  }
  deliver(m.id, m.hops, from, m.payload, born, now);
}

void Core::on_ihave(const Address& from, const IHave& m, Instant now) {
  for (const IHaveEntry& entry : m.entries) {
    if (seen_.contains(entry.id)) {
      maybe_optimize(from, entry);
      continue;
    }
    const Instant born = born_at(entry.age_ms, now);
    if (alive(born, now)) {
      announce_missing(from, entry, born, now);
    } else {
      ++stats_.expired_dropped;  // nobody would still have it to answer a GRAFT
    }
  }
}

void Core::on_graft(const Address& from, const Graft& m, Instant now) {
  if (!is_neighbor(from)) return;
  set_mode(from, Mode::eager);
  if (!m.id) return;
  if (auto it = cache_.find(*m.id); it != cache_.end() && it->second.expires > now) {
    const Cached& cached = it->second;
    send(from, Gossip{*m.id, next_hop(cached.hops), cached.payload, age_ms(cached.born, now)});
  }
}

void Core::on_prune(const Address& from) {
  if (is_neighbor(from)) set_mode(from, Mode::lazy);
}

// ---------------------------------------------------------------- delivery and pushes

void Core::deliver(const MessageId& id, std::uint16_t hops, const std::optional<Address>& from,
                   const std::vector<std::uint8_t>& payload, Instant born, Instant now) {
  assert(alive(born, now));
  // Seen counts from delivery, the cache from the message's birth (born <= now): the id is
  // remembered here longer than any node can hold a copy (seen_ttl >= payload_cache_ttl).
  const Instant seen_until = now + options_.seen_ttl;
  const Instant cached_until = born + options_.payload_cache_ttl;
  seen_[id] = Seen{hops, from, seen_until};
  seen_expiry_.push_back({seen_until, id});
  if (auto old = cache_.find(id); old != cache_.end()) cache_expiry_.erase({old->second.expires, id});
  cache_[id] = Cached{hops, payload, born, cached_until};
  cache_expiry_.emplace(cached_until, id);
  if (missing_.erase(id) != 0 && !waiting_.empty()) admit_waiting(now);  // its graft timer is now stale
  ensure_sweep(now);
  ++stats_.delivered;
  outputs_.push_back(Deliver{id, hops, payload});

  const std::uint16_t onward = next_hop(hops);
  const std::uint32_t age = age_ms(born, now);
  for (const Peer& p : peers_) {
    if (from && p.address == *from) continue;
    if (p.mode == Mode::eager) {
      send(p.address, Gossip{id, onward, payload, age});
    } else {
      queue_ihave(p.address, QueuedIHave{id, onward, born}, now);
    }
  }
  // The link that brought the payload is a tree branch (paper, 3.4); not for non-neighbours.
  if (from && is_neighbor(*from)) set_mode(*from, Mode::eager);
}

Instant Core::born_at(std::uint32_t age, Instant now) const {
  return now - milliseconds(age) - milliseconds(1);
}

void Core::queue_ihave(const Address& to, const QueuedIHave& entry, Instant now) {
  ihave_queue_[to].push_back(entry);
  if (flush_token_ != 0) return;
  flush_token_ = next_token_++;
  schedule(Timer{TimerKind::ihave_flush, {}, flush_token_}, now + options_.ihave_batch_interval);
}

// Announces every message still cached to `to`; a peer that has them already ignores the IHAVE.
// The IHAVE carries each message's age, so the copy it grafts keeps the original deadline: churn
// cannot extend a message's life. In expiry order, for determinism.
void Core::announce_cache(const Address& to, Instant now) {
  for (const auto& [expires, id] : cache_expiry_) {
    if (expires <= now) continue;  // dead, not swept yet
    const Cached& cached = cache_.at(id);
    queue_ihave(to, QueuedIHave{id, next_hop(cached.hops), cached.born}, now);
  }
}

void Core::on_flush_timer(const Timer& timer, Instant now) {
  if (timer.token != flush_token_ || flush_token_ == 0) return;
  flush_token_ = 0;
  auto queue = std::move(ihave_queue_);
  ihave_queue_.clear();
  for (auto& [peer, queued] : queue) {
    if (!is_neighbor(peer)) continue;
    // Ages as of now; a message that died while queued is not announced.
    std::vector<IHaveEntry> entries;
    entries.reserve(queued.size());
    for (const QueuedIHave& q : queued) {
      if (alive(q.born, now)) entries.push_back(IHaveEntry{q.id, q.hops, age_ms(q.born, now)});
    }
    for (std::size_t at = 0; at < entries.size(); at += kMaxIHaveEntries) {
      const std::size_t end = std::min(entries.size(), at + kMaxIHaveEntries);
      send(peer, IHave{{entries.begin() + static_cast<std::ptrdiff_t>(at),
                        entries.begin() + static_cast<std::ptrdiff_t>(end)}});
    }
  }
}

// ---------------------------------------------------------------- recovery and tree repair

void Core::announce_missing(const Address& from, const IHaveEntry& entry, Instant born, Instant now) {
  if (!is_neighbor(from)) return;  // we could not graft it
  if (missing_.size() >= options_.max_missing && !missing_.contains(entry.id)) {
    // No room to track it now: it waits rather than being forgotten, since nobody repeats an
    // announcement (a lost one is a message lost for good once the flood is over).
    if (waiting_.size() < options_.max_waiting_announcements) {
      waiting_.push_back(WaitingAnnouncement{entry.id, from, entry.hops, born});
    } else {
      ++stats_.missing_overflow;
    }
    return;
  }
  track_missing(from, entry.id, entry.hops, born, now);
}

void Core::track_missing(const Address& from, const MessageId& id, std::uint16_t hops, Instant born, Instant now) {
  const auto [slot, added] = missing_.try_emplace(id);
  Missing& missing = slot->second;
  missing.born = added ? born : std::min(missing.born, born);  // the oldest estimate
  const bool known = std::any_of(missing.announcers.begin(), missing.announcers.end(),
                                 [&](const Announcer& a) { return a.peer == from; });
  if (!known) missing.announcers.push_back(Announcer{from, hops});
  if (missing.token != 0) return;
  // The payload may still be on its way along the tree: give it graft_timeout_1 (paper, 3.5).
  missing.token = next_token_++;
  schedule(Timer{TimerKind::graft, id, missing.token}, now + options_.graft_timeout_1);
}

// Tracks waiting announcements, oldest first, while there is room; drops those delivered, dead or
// from a peer that is no longer a neighbour meanwhile.
void Core::admit_waiting(Instant now) {
  while (!waiting_.empty() && missing_.size() < options_.max_missing) {
    const WaitingAnnouncement w = std::move(waiting_.front());
    waiting_.pop_front();
    if (seen_.contains(w.id) || !alive(w.born, now) || !is_neighbor(w.from)) continue;
    track_missing(w.from, w.id, w.hops, w.born, now);
  }
}

void Core::on_graft_timer(const Timer& timer, Instant now) {
  auto it = missing_.find(timer.id);
  if (it == missing_.end() || it->second.token != timer.token || timer.token == 0) return;  // stale
  Missing& missing = it->second;
  if (!alive(missing.born, now)) {
    // Dead by now: no announcer still caches it, and it must not be delivered any more.
    missing_.erase(it);
    admit_waiting(now);
    return;
  }
  while (!missing.announcers.empty()) {
    const Announcer a = missing.announcers.front();
    missing.announcers.pop_front();
    if (!is_neighbor(a.peer)) continue;
    set_mode(a.peer, Mode::eager);
    send(a.peer, Graft{timer.id, a.hops});
    ++stats_.grafts_sent;
    if (missing.announcers.empty()) break;
    // Still nothing after one more round trip: try the next announcer (paper, 3.5).
    missing.token = next_token_++;
    schedule(Timer{TimerKind::graft, timer.id, missing.token}, now + options_.graft_timeout_2);
    return;
  }
  // Nobody left to ask; a later IHAVE starts over.
  missing_.erase(it);
  admit_waiting(now);
}

// An IHAVE for a message we have, over a path at least optimization_threshold hops shorter than
// the one the payload took: make that lazy link the branch instead (paper, 3.8).
void Core::maybe_optimize(const Address& from, const IHaveEntry& entry) {
  if (!is_lazy(from)) return;
  Seen& seen = seen_.at(entry.id);
  if (!seen.from || *seen.from == from) return;
  if (seen.hops < entry.hops || seen.hops - entry.hops < options_.optimization_threshold) return;
  set_mode(from, Mode::eager);
  send(from, Graft{std::nullopt, entry.hops});
  ++stats_.grafts_sent;
  ++stats_.optimizations;
  if (is_eager(*seen.from)) {
    set_mode(*seen.from, Mode::lazy);
    send(*seen.from, Prune{});
  }
  seen.from = from;  // later IHAVEs compare against the new, shorter path
  seen.hops = entry.hops;
}

// ---------------------------------------------------------------- expiry

void Core::ensure_sweep(Instant now) {
  if (sweep_token_ != 0) return;
  sweep_token_ = next_token_++;
  schedule(Timer{TimerKind::sweep, {}, sweep_token_}, now + options_.sweep_interval);
}

void Core::on_sweep_timer(const Timer& timer, Instant now) {
  if (timer.token != sweep_token_ || sweep_token_ == 0) return;
  sweep_token_ = 0;
  expire(now);
  if (!seen_expiry_.empty() || !cache_expiry_.empty()) ensure_sweep(now);
}

void Core::expire(Instant now) {
  while (!cache_expiry_.empty() && cache_expiry_.begin()->first <= now) {
    cache_.erase(cache_expiry_.begin()->second);
    cache_expiry_.erase(cache_expiry_.begin());
  }
  expire_queue(seen_expiry_, seen_, now);
}

// ---------------------------------------------------------------- plumbing

void Core::set_mode(const Address& peer, Mode mode) {
  Peer* p = find_peer(peer);
  assert(p && "only neighbours change mode");
  p->mode = mode;
}

Core::Peer* Core::find_peer(const Address& peer) {
  for (Peer& p : peers_) {
    if (p.address == peer) return &p;
  }
  return nullptr;
}

const Core::Peer* Core::find_peer(const Address& peer) const {
  for (const Peer& p : peers_) {
    if (p.address == peer) return &p;
  }
  return nullptr;
}

void Core::send(const Address& to, Message message) {
  assert(is_neighbor(to));
  if (is_payload(message)) {
    ++stats_.payload_sent;
  } else {
    ++stats_.control_sent;
    if (std::holds_alternative<Prune>(message)) ++stats_.prunes_sent;
  }
  outputs_.push_back(Send{to, std::move(message)});
}

void Core::advance(Instant now) {
  assert(now >= last_now_ && "time never goes backwards");
  last_now_ = now;
}

}  // namespace hypar::plumtree
