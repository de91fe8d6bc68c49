// SPDX-License-Identifier: Apache-2.0
#include "hypar/plumtree/core.hpp"

#include <algorithm>
#include <cassert>
#include <limits>
#include <stdexcept>
#include <string>

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
  advance(now);
  if (peer == self_) return;
  auto at = std::lower_bound(peers_.begin(), peers_.end(), peer,
                             [](const Peer& p, const Address& a) { return p.address < a; });
  if (at != peers_.end() && at->address == peer) return;
  peers_.insert(at, Peer{peer, Mode::eager});  // new neighbours start as tree branches (paper, 3.4)
  // Catch-up (not in the paper): announce every message still cached to the new neighbour, so a
  // node that HyParView churn cut off for a moment grafts what was broadcast meanwhile. A
  // neighbour that has them already ignores the IHAVE. In delivery order, for determinism.
  for (const Expiry& e : cache_expiry_) {
    const auto it = cache_.find(e.id);
    if (it != cache_.end() && it->second.expires == e.at && e.at > now) {
      queue_ihave(peer, IHaveEntry{e.id, next_hop(it->second.hops)}, now);
    }
  }
}

void Core::neighbor_down(const Address& peer, Instant now) {
  advance(now);
  std::erase_if(peers_, [&](const Peer& p) { return p.address == peer; });
  ihave_queue_.erase(peer);
  // Its announcements stay in missing_: graft timers skip peers that are no longer neighbours.
}

BroadcastResult Core::broadcast(std::vector<std::uint8_t> payload, Instant now) {
  advance(now);
  if (payload.size() > options_.max_payload_bytes) return {BroadcastError::payload_too_large};
  MessageId id{self_, 0};
  if (options_.id_scheme == IdScheme::sequence) {
    id.seq = next_seq_++;
  } else {
    id.seq = content_hash(payload);
    if (seen_.contains(id)) return {BroadcastError::already_seen};
  }
  deliver(id, 0, std::nullopt, payload, now);
  return {id};
}

void Core::received(const Address& from, const Message& message, Instant now) {
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
        if constexpr (std::is_same_v<T, Graft>) on_graft(from, m);
        if constexpr (std::is_same_v<T, Prune>) on_prune(from);
      },
      message);
}

void Core::timer_fired(const Timer& timer, Instant now) {
  advance(now);
  switch (timer.kind) {
    case TimerKind::ihave_flush: on_flush_timer(timer); break;
    case TimerKind::graft: on_graft_timer(timer, now); break;
    case TimerKind::sweep: on_sweep_timer(timer, now); break;
  }
}

std::vector<Output> Core::take_outputs() {
  std::vector<Output> out;
  out.swap(outputs_);
  return out;
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
  deliver(m.id, m.hops, from, m.payload, now);
}

void Core::on_ihave(const Address& from, const IHave& m, Instant now) {
  for (const IHaveEntry& entry : m.entries) {
    if (seen_.contains(entry.id)) {
      maybe_optimize(from, entry);
    } else {
      announce_missing(from, entry, now);
    }
  }
}

void Core::on_graft(const Address& from, const Graft& m) {
  if (!is_neighbor(from)) return;
  set_mode(from, Mode::eager);
  if (!m.id) return;
  if (auto it = cache_.find(*m.id); it != cache_.end()) {
    send(from, Gossip{*m.id, next_hop(it->second.hops), it->second.payload});
  }
}

void Core::on_prune(const Address& from) {
  if (is_neighbor(from)) set_mode(from, Mode::lazy);
}

// ---------------------------------------------------------------- delivery and pushes

void Core::deliver(const MessageId& id, std::uint16_t hops, const std::optional<Address>& from,
                   const std::vector<std::uint8_t>& payload, Instant now) {
  const Instant seen_until = now + options_.seen_ttl;
  const Instant cached_until = now + options_.payload_cache_ttl;
  seen_[id] = Seen{hops, from, seen_until};
  seen_expiry_.push_back({seen_until, id});
  cache_[id] = Cached{hops, payload, cached_until};
  cache_expiry_.push_back({cached_until, id});
  missing_.erase(id);  // its graft timer is now stale
  ensure_sweep(now);
  ++stats_.delivered;
  outputs_.push_back(Deliver{id, hops, payload});

  const std::uint16_t onward = next_hop(hops);
  for (const Peer& p : peers_) {
    if (from && p.address == *from) continue;
    if (p.mode == Mode::eager) {
      send(p.address, Gossip{id, onward, payload});
    } else {
      queue_ihave(p.address, IHaveEntry{id, onward}, now);
    }
  }
  // The link that brought the payload is a tree branch (paper, 3.4); not for non-neighbours.
  if (from && is_neighbor(*from)) set_mode(*from, Mode::eager);
}

void Core::queue_ihave(const Address& to, const IHaveEntry& entry, Instant now) {
  ihave_queue_[to].push_back(entry);
  if (flush_token_ != 0) return;
  flush_token_ = next_token_++;
  schedule(Timer{TimerKind::ihave_flush, {}, flush_token_}, now + options_.ihave_batch_interval);
}

void Core::on_flush_timer(const Timer& timer) {
  if (timer.token != flush_token_ || flush_token_ == 0) return;
  flush_token_ = 0;
  auto queue = std::move(ihave_queue_);
  ihave_queue_.clear();
  for (auto& [peer, entries] : queue) {
    if (!is_neighbor(peer)) continue;
    for (std::size_t at = 0; at < entries.size(); at += kMaxIHaveEntries) {
      const std::size_t end = std::min(entries.size(), at + kMaxIHaveEntries);
      send(peer, IHave{{entries.begin() + static_cast<std::ptrdiff_t>(at),
                        entries.begin() + static_cast<std::ptrdiff_t>(end)}});
    }
  }
}

// ---------------------------------------------------------------- recovery and tree repair

void Core::announce_missing(const Address& from, const IHaveEntry& entry, Instant now) {
  if (!is_neighbor(from)) return;  // we could not graft it
  if (missing_.size() >= options_.max_missing && !missing_.contains(entry.id)) {
    ++stats_.missing_overflow;
    return;
  }
  Missing& missing = missing_[entry.id];
  const bool known = std::any_of(missing.announcers.begin(), missing.announcers.end(),
                                 [&](const Announcer& a) { return a.peer == from; });
  if (!known) missing.announcers.push_back(Announcer{from, entry.hops});
  if (missing.token != 0) return;
  // The payload may still be on its way along the tree: give it graft_timeout_1 (paper, 3.5).
  missing.token = next_token_++;
  schedule(Timer{TimerKind::graft, entry.id, missing.token}, now + options_.graft_timeout_1);
}

void Core::on_graft_timer(const Timer& timer, Instant now) {
  auto it = missing_.find(timer.id);
  if (it == missing_.end() || it->second.token != timer.token || timer.token == 0) return;  // stale
  Missing& missing = it->second;
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
  expire_queue(cache_expiry_, cache_, now);
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
