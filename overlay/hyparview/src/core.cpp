// SPDX-License-Identifier: Apache-2.0
#include "hypar/hyparview/core.hpp"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <stdexcept>

#include "hypar/invariants.hpp"

namespace hypar::hyparview {

const char* reason_name(DownReason reason) {
  switch (reason) {
    case DownReason::graceful: return "graceful";
    case DownReason::failed: return "failed";
    case DownReason::evicted: return "evicted";
    case DownReason::timed_out: return "timed_out";
  }
  return "unknown";
}

namespace {

Options checked(Options options) {
  const auto problems = options.validate();
  if (!problems.empty()) {
    std::string text = "invalid HyParView options:";
    for (const auto& p : problems) text += " " + p + ";";
    throw std::invalid_argument(text);
  }
  return options;
}

}  // namespace

Core::Core(PeerId self, Options options, std::uint64_t seed)
    : self_(std::move(self)),
      options_(checked(options)),
      rng_(seed),
      heal_rng_(mix_seed(seed, 0x4ea1)),
      rejoin_backoff_(options_.join_retry_min) {}

// ---------------------------------------------------------------- inputs

void Core::start(Instant now) {
  const CheckOnReturn check(*this, "hyparview::Core", "start");
  assert(!started_ && "start() is called once");
  started_ = true;
  last_now_ = now;
  schedule({TimerKind::shuffle}, now + jittered(options_.shuffle_period));
  if (options_.keepalive_interval > Duration::zero()) {
    keepalive_due_ = now + jittered(options_.keepalive_interval);
    schedule({TimerKind::keepalive}, keepalive_due_);
  }
  schedule({TimerKind::sweep}, now + jittered(options_.idle_link_timeout));
  if (options_.probe_period > Duration::zero()) schedule({TimerKind::probe}, now + jittered(options_.probe_period));
}

void Core::join(std::vector<Address> contacts, Instant now) {
  const CheckOnReturn check(*this, "hyparview::Core", "join");
  advance(now);
  if (left_) return;
  contacts.erase(std::remove(contacts.begin(), contacts.end(), self_.address), contacts.end());
  contacts_ = std::move(contacts);
  next_contact_ = 0;
  contacts_tried_ = 0;
  report_join_ = true;
  if (contacts_.empty()) {
    report_join_ = false;
    outputs_.push_back(JoinFailed{});
    return;
  }
  joining_ = true;
  try_next_contact(now);
}

void Core::set_contacts(std::vector<Address> contacts) {
  const CheckOnReturn check(*this, "hyparview::Core", "set_contacts");
  contacts.erase(std::remove(contacts.begin(), contacts.end(), self_.address), contacts.end());
  if (contacts.empty() || joining_) return;  // an attempt in flight keeps the list it walks
  contacts_ = std::move(contacts);
  next_contact_ = 0;
}

void Core::add_spares(const std::vector<PeerId>& peers, Instant now) {
  const CheckOnReturn check(*this, "hyparview::Core", "add_spares");
  advance(now);
  if (left_) return;
  for (const PeerId& peer : peers) add_passive(peer, now);
}

void Core::link_up(const PeerId& peer, Instant now) {
  const CheckOnReturn check(*this, "hyparview::Core", "link_up");
  advance(now);
  if (left_) return;
  if (peer.address == self_.address) {  // a link to ourselves, e.g. via a stale address
    links_.erase(peer.address);
    outputs_.push_back(Close{peer.address});
    return;
  }
  // A newer life of an active peer: the old one is gone, whatever its link still says.
  if (ActivePeer* known = find_active(peer.address); known && is_newer_life(peer, known->id)) {
    remove_active(peer.address, DownReason::failed, now);
  }
  if (const PeerId* p = find_passive(peer.address); p && is_newer_life(peer, *p)) remove_passive(peer.address);

  auto [it, inserted] = links_.try_emplace(peer.address);
  Link& link = it->second;
  if (inserted) link.since = now;  // opened by the remote side
  link.up = true;
  link.peer = peer;

  if (link.purpose == Purpose::join_contact) joined(peer, now);
}

void Core::link_down(const Address& peer, Instant now) {
  const CheckOnReturn check(*this, "hyparview::Core", "link_down");
  advance(now);
  if (left_) return;
  const auto it = links_.find(peer);
  if (it == links_.end()) return;  // already closed by us
  const Purpose purpose = it->second.purpose;
  const std::optional<PeerId> id = it->second.peer;
  links_.erase(it);

  if (find_active(peer)) {
    remove_active(peer, DownReason::failed, now);
    fill_active(now);
  } else if (pending_.erase(peer) > 0) {
    if (id) quarantine(*id, now);
    remove_passive(peer);
    fill_active(now);
  } else if (purpose == Purpose::join_contact) {
    connect_failed(peer, now);
  }
}

void Core::connect_failed(const Address& peer, Instant now) {
  const CheckOnReturn check(*this, "hyparview::Core", "connect_failed");
  advance(now);
  if (left_) return;
  const auto it = links_.find(peer);
  if (it == links_.end()) return;
  // Only a link still opening can fail to connect; one that is up breaks with link_down. Taking
  // this for it would leave an active peer without a link (check_invariants).
  if (it->second.up) return;
  const Purpose purpose = it->second.purpose;
  links_.erase(it);

  // A pending NEIGHBOR request to this peer ends with the connect, whatever the link's purpose: a
  // join may have taken over the request's link (join_contact), and the request would otherwise
  // wait, linkless, for its neighbor_timeout before being replaced.
  const bool request_failed = pending_.erase(peer) > 0;
  if (request_failed) {
    if (const PeerId* p = find_passive(peer)) quarantine(*p, now);
    remove_passive(peer);
  }
  if (purpose == Purpose::join_contact) {
    ++contacts_tried_;
    if (contacts_tried_ < contacts_.size()) {
      try_next_contact(now);
    } else {
      joining_ = false;
      if (report_join_) outputs_.push_back(JoinFailed{contacts_});
      report_join_ = false;
      became_isolated(now);
    }
  }
  if (request_failed) fill_active(now);
}

void Core::received(const Address& from, const Message& message, Instant now) {
  const CheckOnReturn check(*this, "hyparview::Core", "received");
  advance(now);
  if (left_) return;
  const auto it = links_.find(from);
  if (it == links_.end() || !it->second.up || !it->second.peer) return;  // not a live link: stale
  const PeerId sender = *it->second.peer;
  if (ActivePeer* a = find_active(from)) a->last_heard = now;

  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Join>) on_join(sender, now);
        else if constexpr (std::is_same_v<T, ForwardJoin>) on_forward_join(sender, m, now);
        else if constexpr (std::is_same_v<T, Neighbor>) on_neighbor(sender, m, now);
        else if constexpr (std::is_same_v<T, NeighborReply>) on_neighbor_reply(sender, m, now);
        else if constexpr (std::is_same_v<T, Disconnect>) on_disconnect(sender, m, now);
        else if constexpr (std::is_same_v<T, Shuffle>) on_shuffle(sender, m, now);
        else if constexpr (std::is_same_v<T, ShuffleReply>) on_shuffle_reply(sender, m, now);
        // Keepalive: hearing from the peer (above) is all it does.
      },
      message);
}

void Core::timer_fired(const Timer& timer, Instant now) {
  const CheckOnReturn check(*this, "hyparview::Core", "timer_fired");
  advance(now);
  if (left_) return;
  switch (timer.kind) {
    case TimerKind::shuffle: on_shuffle_timer(now); break;
    case TimerKind::keepalive: on_keepalive_timer(now); break;
    case TimerKind::rejoin: on_rejoin_timer(timer, now); break;
    case TimerKind::neighbor_timeout: on_neighbor_timeout(timer, now); break;
    case TimerKind::fill_active:
      fill_retry_scheduled_ = false;
      fill_active(now);
      break;
    case TimerKind::sweep: on_sweep_timer(now); break;
    case TimerKind::heal: on_heal_timer(timer, now); break;
    case TimerKind::probe: on_probe_timer(now); break;
    case TimerKind::join_swap: on_join_swap_timer(now); break;
  }
}

void Core::leave(Instant now) {
  const CheckOnReturn check(*this, "hyparview::Core", "leave");
  advance(now);
  if (left_) return;
  for (const ActivePeer& a : std::vector<ActivePeer>(active_)) {
    send(a.id.address, Disconnect{false});
    outputs_.push_back(PeerDown{a.id, DownReason::graceful});
  }
  active_.clear();
  for (const auto& [address, link] : links_) outputs_.push_back(Close{address});
  links_.clear();
  pending_.clear();
  passive_.clear();
  suspects_.clear();
  early_walk_links_.clear();
  left_ = true;
}

void Core::release_output_buffer() {
  if (outputs_.empty()) std::vector<Output>().swap(outputs_);
}

void Core::take_outputs(std::vector<Output>& out) {
  if (out.empty()) {
    out.swap(outputs_);  // the caller's buffer becomes ours: no allocation in steady state
  } else {
    out.insert(out.end(), std::make_move_iterator(outputs_.begin()), std::make_move_iterator(outputs_.end()));
  }
  outputs_.clear();
}

// ---------------------------------------------------------------- message handlers

void Core::on_join(const PeerId& from, Instant now) {
  pending_.erase(from.address);
  // A JOIN from a neighbour is a node short of neighbours joining again: walk it again.
  if (!find_active(from.address)) add_active(from, now);
  for (const ActivePeer& a : active_) {
    if (a.id.address != from.address) send(a.id.address, ForwardJoin{from, options_.arwl});
  }
}

void Core::on_forward_join(const PeerId& from, const ForwardJoin& m, Instant now) {
  if (m.joiner.address == self_.address) return;
  const std::uint8_t ttl = std::min(m.ttl, options_.arwl);  // a peer cannot make walks longer
  const bool walk_ends = ttl == 0 || active_.size() <= 1;
  if (walk_ends) {
    if (!find_active(m.joiner.address) && !pending_.count(m.joiner.address) && !is_quarantined(m.joiner, now)) {
      request_neighbor(m.joiner, Priority::high, now);
      if (ttl > 0 || active_.size() < options_.active_size) remember_early_walk_link(m.joiner.address, now);
    }
    return;
  }
  if (ttl == options_.prwl) add_passive(m.joiner, now);
  if (auto next = random_active_except(from.address, m.joiner.address)) {
    send(next->address, ForwardJoin{m.joiner, static_cast<std::uint8_t>(ttl - 1)});
  } else if (!find_active(m.joiner.address) && !pending_.count(m.joiner.address)) {
    request_neighbor(m.joiner, Priority::high, now);  // nowhere to walk on: the walk ends here
    remember_early_walk_link(m.joiner.address, now);
  }
}

void Core::on_neighbor(const PeerId& from, const Neighbor& m, Instant now) {
  // Two nodes asking each other at once: both accept, and the single link between them serves
  // both requests (the deterministic tie-break: crossing requests are never both refused).
  const bool crossing = pending_.erase(from.address) > 0;
  const bool accept =
      find_active(from.address) || crossing || m.priority == Priority::high || has_room_for_low_priority();
  if (accept) add_active(from, now, m.dropping);
  send(from.address, NeighborReply{accept});
}

void Core::on_neighbor_reply(const PeerId& from, const NeighborReply& m, Instant now) {
  const auto request = pending_.find(from.address);
  if (!m.accepted && request != pending_.end() && request->second.priority == Priority::low &&
      wanted_priority() == Priority::high) {
    // We lost more neighbours while this low-priority request was in flight: ask again, insisting.
    pending_.erase(request);
    request_neighbor(from, Priority::high, now);
    return;
  }
  if (pending_.erase(from.address) == 0) {
    // A late reply to a request we gave up on, or one we never sent: ignore it, and make sure
    // the link does not linger if the peer is not a neighbour.
    if (!find_active(from.address)) {
      if (m.accepted) send(from.address, Disconnect{true});
      close(from.address);
    }
    fill_active(now);
    return;
  }
  if (m.accepted) {
    add_active(from, now);
  } else {
    close(from.address);
    rejected_until_[from.address] = now + options_.reject_backoff;
  }
  fill_active(now);
}

void Core::on_disconnect(const PeerId& from, const Disconnect& m, Instant now) {
  const DownReason reason = m.alive ? DownReason::evicted : DownReason::graceful;
  const bool was_active = find_active(from.address) != nullptr;
  if (was_active) remove_active(from.address, reason, now);
  const bool was_pending = pending_.erase(from.address) > 0;
  close(from.address);
  if (m.alive) {
    add_passive(from, now);
    rejected_until_[from.address] = now + options_.reject_backoff;  // it just made room: don't ask back
    if (was_active && m.ask) ask_introduced(*m.ask, now);
  } else {
    remove_passive(from.address);
    forget_lost(from.address);  // a graceful leaver is not asked again
  }
  if (was_active || was_pending) fill_active(now);
}

void Core::on_shuffle(const PeerId& from, const Shuffle& m, Instant now) {
  if (m.origin.address == self_.address) return;  // our own walk came back
  const std::uint8_t ttl = std::min(m.ttl, options_.arwl);
  if (ttl > 1 && active_.size() > 1) {
    if (auto next = random_active_except(from.address, m.origin.address)) {
      Shuffle forwarded = m;
      forwarded.ttl = static_cast<std::uint8_t>(ttl - 1);
      send(next->address, std::move(forwarded));
      return;
    }
  }
  // The walk ends here: answer the origin directly, then take its sample.
  ShuffleReply reply{m.id, sample_passive(m.peers.size())};
  const std::vector<PeerId> sent = reply.peers;
  if (!links_.count(m.origin.address)) {
    connect(m.origin.address, Purpose::shuffle_reply, now);
    send(m.origin.address, std::move(reply));
    close(m.origin.address);
  } else {
    send(m.origin.address, std::move(reply));
  }
  for (const PeerId& p : m.peers) add_passive(p, now, &sent);
  add_passive(m.origin, now, &sent);
}

void Core::on_shuffle_reply(const PeerId& from, const ShuffleReply& m, Instant now) {
  const auto it = std::find_if(sent_shuffles_.begin(), sent_shuffles_.end(),
                               [&](const SentShuffle& s) { return s.id == m.id; });
  if (it == sent_shuffles_.end()) return;  // unsolicited or too old
  const SentShuffle sent = std::move(*it);
  sent_shuffles_.erase(it);
  for (const PeerId& p : m.peers) add_passive(p, now, &sent.peers);
  // The replier opened a temporary link for this reply; it closes it, and so do we.
  if (!find_active(from.address) && !pending_.count(from.address)) close(from.address);
}

// ---------------------------------------------------------------- timers

void Core::on_shuffle_timer(Instant now) {
  schedule({TimerKind::shuffle}, now + jittered(options_.shuffle_period));
  // Periodic promotion (not in the paper, where only a lost neighbour makes a node ask): a node
  // whose join left it short, say through a contact that had few neighbours to walk it to, has
  // lost nobody, so nothing else would ever make it ask the passive peers that shuffles bring.
  fill_active(now);
  if (options_.join_swap_period == Duration::zero()) replace_an_early_walk_link(now);
  if (active_.empty()) return;
  const PeerId target = active_[rng_.index(active_.size())].id;
  Shuffle shuffle;
  shuffle.origin = self_;
  shuffle.ttl = options_.arwl;
  shuffle.id = next_shuffle_id_++;
  shuffle.peers = sample_active(options_.k_active, &target.address);
  for (PeerId& p : sample_passive(options_.k_passive)) shuffle.peers.push_back(std::move(p));
  sent_shuffles_.push_back({shuffle.id, shuffle.peers});
  if (sent_shuffles_.size() > kRememberedShuffles) sent_shuffles_.erase(sent_shuffles_.begin());
  send(target.address, std::move(shuffle));
}

// Failure detection by silence, counted in time this node was running. A tick that fires late
// means the node's own event loop was stalled or starved (a GC pause, a VM steal, a loaded host):
// the peers' messages of that time may still be unread in the sockets, so the lateness is not
// counted as their silence, and after a stall the tick declares nobody failed (the reads run before
// the next tick). A peer that really died is declared failed later by at most the lag and a tick.
void Core::on_keepalive_timer(Instant now) {
  const Duration lateness = std::max(Duration::zero(), now - keepalive_due_);
  keepalive_due_ = now + jittered(options_.keepalive_interval);
  schedule({TimerKind::keepalive}, keepalive_due_);
  discount_own_lag(lateness, now);
  const bool deferred = defers_failure_check(lateness);
  std::vector<Address> silent;
  for (const ActivePeer& a : active_) {
    if (!deferred && now - a.last_heard > options_.keepalive_timeout) {
      silent.push_back(a.id.address);
    } else {
      send(a.id.address, Keepalive{});
    }
  }
  for (const Address& peer : silent) {
    const PeerId id = find_active(peer)->id;
    remove_active(peer, DownReason::timed_out, now);
    close(peer);
    quarantine(id, now);
  }
  if (!silent.empty()) fill_active(now);
}

// The time a tick came late is time this node did not run: it is no peer's silence.
void Core::discount_own_lag(Duration lateness, Instant now) {
  if (lateness <= Duration::zero()) return;
  for (ActivePeer& a : active_) a.last_heard = std::min(now, a.last_heard + lateness);
}

// A tick more than stall_slack() late declares nobody failed, but never two ticks in a row: on a
// loop that is late at every tick, every other tick still checks.
bool Core::defers_failure_check(Duration lateness) {
  failure_check_deferred_ = lateness > stall_slack() && !failure_check_deferred_;
  return failure_check_deferred_;
}

void Core::on_rejoin_timer(const Timer& timer, Instant now) {
  if (timer.token != rejoin_token_) return;  // superseded
  rejoin_token_ = 0;
  if (active_.size() >= options_.active_size || contacts_.empty()) return;
  const bool isolated = active_.empty();
  if (!isolated && !passive_.empty()) {  // spares appeared meanwhile: ask them instead
    fill_active(now);
    return;
  }
  rejoin_backoff_ = std::min(rejoin_backoff_ * 2, options_.join_retry_max);
  if (!joining_) {
    joining_ = true;
    contacts_tried_ = 0;
    try_next_contact(now);
  }
  schedule_rejoin(now);  // try again later if this attempt does not help
}

void Core::on_neighbor_timeout(const Timer& timer, Instant now) {
  const auto it = pending_.find(timer.peer);
  if (it == pending_.end() || it->second.token != timer.token) return;  // answered in time
  if (extends_for_own_lag(it->second, timer, now)) return;
  pending_.erase(it);
  if (const PeerId* p = find_passive(timer.peer)) quarantine(*p, now);
  remove_passive(timer.peer);
  close(timer.peer);
  fill_active(now);
}

// A deadline that fires more than a quarter of neighbor_timeout late means this node's loop was
// stalled or starved, and the reply may be waiting unread: the request gets once more the time the
// lag took (at most neighbor_timeout), as the keepalive check does not count the lag as silence.
// An unanswered request is abandoned after at most 2 x neighbor_timeout + the lag.
bool Core::extends_for_own_lag(PendingRequest& request, const Timer& timer, Instant now) {
  const Duration lateness = now - request.due;
  if (request.extended || lateness <= options_.neighbor_timeout / 4) return false;
  request.extended = true;
  request.due = now + std::min(lateness, options_.neighbor_timeout);
  schedule(timer, request.due);
  return true;
}

bool Core::awaits_reply(const Timer& timer) const {
  if (timer.kind != TimerKind::neighbor_timeout) return false;
  const auto it = pending_.find(timer.peer);
  return it != pending_.end() && it->second.token == timer.token;
}

// Partition healing: asks the peers lost to a timeout or a broken link again, each on its own
// backoff. High priority, because after a partition heals both sides have full views and a full
// node refuses low priority: the link is forced, one eviction on each side, once per lost peer.
void Core::on_heal_timer(const Timer& timer, Instant now) {
  if (timer.token != heal_token_) return;  // superseded by an earlier one
  heal_token_ = 0;
  std::erase_if(suspects_, [&](const Suspect& s) { return s.forget_at <= now || find_active(s.id.address); });
  std::optional<Instant> next;
  for (Suspect& s : suspects_) {
    if (s.next_try <= now) {
      if (!pending_.count(s.id.address)) request_neighbor(s.id, Priority::high, now);
      s.backoff = std::min(s.backoff * 2, options_.heal_retry_max);
      s.next_try = heal_wait(s.backoff, now);
    }
    if (!next || s.next_try < *next) next = s.next_try;
  }
  if (next) schedule_heal(*next);
}

// The alternative to remembering lost peers (off by default): a full node swaps one link for a
// random spare every probe_period, whether or not anything was partitioned.
void Core::on_probe_timer(Instant now) {
  schedule({TimerKind::probe}, now + jittered(options_.probe_period));
  if (active_.size() < options_.active_size) return;  // fill_active serves short views
  std::vector<const PeerId*> pool;
  for (const PeerId& p : passive_) {
    if (!pending_.count(p.address)) pool.push_back(&p);
  }
  if (pool.empty()) return;
  request_neighbor(*pool[rng_.index(pool.size())], Priority::high, now);
}

// Joins that overlap link nodes that joined close together, and a node refilling its view then
// asks spares from the same crowd. A node that saw such a join (it ended a walk early) swaps one
// link a shuffle period, join_swaps times: it asks a random spare, insisting (a full node refuses
// low priority), and add_active then evicts an early-walk peer if it has one, else a random one.
// Every swap adds a link to a spare from further away; the swaps of all the crowd's nodes mix
// their region of the graph like a random one.
void Core::replace_an_early_walk_link(Instant now) {
  std::erase_if(early_walk_links_, [&](const Address& a) { return !find_active(a) && !pending_.count(a); });
  if (swaps_left_ == 0 || active_.size() < options_.active_size) return;
  std::vector<const PeerId*> pool;
  for (const PeerId& p : passive_) {
    if (!pending_.count(p.address)) pool.push_back(&p);
  }
  if (pool.empty()) return;
  --swaps_left_;
  const PeerId target = *pool[rng_.index(pool.size())];
  // Make room first, so that the dropped peer is one short before the target's evicted peer,
  // introduced to it, asks it (two hops later at least).
  const PeerId dropped = eviction_choice().id;
  evict(dropped, now, std::nullopt);
  request_neighbor(target, Priority::high, now, dropped);
}

// With a join_swap_period of its own, the swaps tick apart from the shuffles, until none is left.
void Core::on_join_swap_timer(Instant now) {
  replace_an_early_walk_link(now);
  if (swaps_left_ > 0) schedule({TimerKind::join_swap}, now + jittered(options_.join_swap_period));
}

// The other end of a join swap lost a neighbour when we did: two nodes one short, linked at once
// instead of each searching for a node with room (full nodes refuse low priority, so without
// this each swap left a search and often more evictions behind it).
void Core::ask_introduced(const PeerId& peer, Instant now) {
  if (peer.address == self_.address || find_active(peer.address) || pending_.count(peer.address) ||
      is_quarantined(peer, now) || active_.size() + pending_.size() >= options_.active_size) {
    return;
  }
  request_neighbor(peer, wanted_priority(), now);
}

void Core::remember_early_walk_link(const Address& joiner, Instant now) {
  if (options_.join_swaps == 0) return;
  if (!saw_overlapping_join_) {
    saw_overlapping_join_ = true;
    swaps_left_ = options_.join_swaps;
    if (options_.join_swap_period > Duration::zero()) {
      schedule({TimerKind::join_swap}, now + jittered(options_.join_swap_period));
    }
  }
  if (std::find(early_walk_links_.begin(), early_walk_links_.end(), joiner) != early_walk_links_.end()) return;
  early_walk_links_.push_back(joiner);
}

void Core::on_sweep_timer(Instant now) {
  schedule({TimerKind::sweep}, now + jittered(options_.idle_link_timeout));
  std::vector<Address> idle;
  for (const auto& [address, link] : links_) {
    const bool in_use = find_active(address) || pending_.count(address) || link.purpose == Purpose::join_contact;
    if (!in_use && now - link.since > options_.idle_link_timeout) idle.push_back(address);
  }
  for (const Address& address : idle) close(address);
  std::erase_if(lost_, [now](const auto& entry) { return entry.second.until <= now; });
  std::erase_if(rejected_until_, [now](const auto& entry) { return entry.second <= now; });
}

// ---------------------------------------------------------------- views

// The peer to evict to make room: an early-walk link first (replace_an_early_walk_link),
// otherwise a random peer. The view is not empty.
const Core::ActivePeer& Core::eviction_choice() {
  const ActivePeer& random = active_[rng_.index(active_.size())];
  for (const Address& early : early_walk_links_) {
    if (const ActivePeer* a = find_active(early)) return *a;
  }
  return random;
}

// Drops an active peer that stays alive: it keeps us as a passive peer, and we it. `introduce`,
// unless it is that peer, is sent along for it to ask first (Disconnect::ask).
void Core::evict(PeerId peer, Instant now, const std::optional<PeerId>& introduce) {
  std::optional<PeerId> ask = introduce;
  if (ask && ask->address == peer.address) ask.reset();
  send(peer.address, Disconnect{true, std::move(ask)});
  remove_active(peer.address, DownReason::evicted, now);
  close(peer.address);
  add_passive(peer, now);
}

void Core::add_active(const PeerId& peer, Instant now, const std::optional<PeerId>& introduce) {
  if (peer.address == self_.address) return;
  if (ActivePeer* known = find_active(peer.address)) {
    if (!is_newer_life(peer, known->id)) return;
    remove_active(peer.address, DownReason::failed, now);
  }
  if (active_.size() >= options_.active_size) evict(eviction_choice().id, now, introduce);
  remove_passive(peer.address);
  lost_.erase(peer.address);
  forget_lost(peer.address);
  pending_.erase(peer.address);  // a request still in flight is answered: its timeout must not close the link
  auto& link = links_[peer.address];
  link.purpose = Purpose::active;
  link.up = true;
  link.peer = peer;
  active_.push_back({peer, now});
  outputs_.push_back(PeerUp{peer});
  rejoin_backoff_ = options_.join_retry_min;
  rejoin_token_ = 0;
}

void Core::remove_active(const Address& peer, DownReason reason, Instant now) {
  const auto it = std::find_if(active_.begin(), active_.end(), [&](const ActivePeer& a) { return a.id.address == peer; });
  if (it == active_.end()) return;
  const PeerId id = it->id;
  active_.erase(it);
  std::erase(early_walk_links_, peer);
  if (auto link = links_.find(peer); link != links_.end()) link->second.purpose = Purpose::inbound;
  if (reason == DownReason::failed || reason == DownReason::timed_out) {
    quarantine(id, now);
    remember_lost(id, now);
  }
  outputs_.push_back(PeerDown{id, reason});
  if (active_.empty()) became_isolated(now);
}

void Core::add_passive(const PeerId& peer, Instant now, const std::vector<PeerId>* evict_first) {
  if (peer.address == self_.address || find_active(peer.address) || is_quarantined(peer, now)) return;
  for (PeerId& known : passive_) {
    if (known.address != peer.address) continue;
    if (is_newer_life(peer, known)) known = peer;
    return;
  }
  if (passive_.size() >= options_.passive_size) {
    // Make room, never at the expense of a candidate we are asking right now (its answer is
    // what fills our active view). Prefer the peers we just sent away in a shuffle.
    const auto evictable = [this](const PeerId& p) { return pending_.empty() || !pending_.count(p.address); };
    std::optional<std::size_t> victim;
    if (evict_first) {
      for (const PeerId& candidate : *evict_first) {
        const PeerId* known = find_passive(candidate.address);
        if (known && evictable(*known)) {
          victim = static_cast<std::size_t>(known - passive_.data());
          break;
        }
      }
    }
    if (!victim && pending_.empty()) victim = rng_.index(passive_.size());
    if (!victim) {
      std::vector<std::size_t> pool;
      for (std::size_t i = 0; i < passive_.size(); ++i) {
        if (evictable(passive_[i])) pool.push_back(i);
      }
      if (pool.empty()) return;  // every spare is being asked: keep them, drop the newcomer
      victim = pool[rng_.index(pool.size())];
    }
    passive_.erase(passive_.begin() + static_cast<std::ptrdiff_t>(*victim));
  }
  passive_.push_back(peer);
}

void Core::remove_passive(const Address& peer) {
  std::erase_if(passive_, [&](const PeerId& p) { return p.address == peer; });
}

std::vector<PeerId> Core::sample_passive(std::size_t count) {
  std::vector<PeerId> pool = passive_;
  rng_.shuffle(std::span<PeerId>(pool));
  if (pool.size() > count) pool.resize(count);
  return pool;
}

std::vector<PeerId> Core::sample_active(std::size_t count, const Address* except) {
  std::vector<PeerId> pool;
  for (const ActivePeer& a : active_) {
    if (!except || a.id.address != *except) pool.push_back(a.id);
  }
  rng_.shuffle(std::span<PeerId>(pool));
  if (pool.size() > count) pool.resize(count);
  return pool;
}

std::optional<PeerId> Core::random_active_except(const Address& a, const Address& b) {
  std::vector<const PeerId*> pool;
  for (const ActivePeer& p : active_) {
    if (p.id.address != a && p.id.address != b) pool.push_back(&p.id);
  }
  if (pool.empty()) return std::nullopt;
  return *pool[rng_.index(pool.size())];
}

// Asks passive peers to become neighbours until the active view plus the requests in flight
// reach active_size. Candidates that rejected us recently are skipped until their backoff ends.
void Core::fill_active(Instant now) {
  if (left_) return;
  std::optional<Instant> earliest_retry;
  while (active_.size() + pending_.size() < options_.active_size) {
    std::vector<const PeerId*> candidates;
    for (const PeerId& p : passive_) {
      if (pending_.count(p.address)) continue;
      if (auto r = rejected_until_.find(p.address); r != rejected_until_.end() && r->second > now) {
        if (!earliest_retry || r->second < *earliest_retry) earliest_retry = r->second;
        continue;
      }
      candidates.push_back(&p);
    }
    if (candidates.empty()) {
      // No spare left to ask: the passive view ran dry (e.g. after many failures). Join again
      // through the contacts so that random walks find new neighbours.
      if (!earliest_retry) schedule_rejoin(now);
      break;
    }
    const PeerId candidate = *candidates[rng_.index(candidates.size())];
    request_neighbor(candidate, wanted_priority(), now);
  }
  if (active_.size() + pending_.size() < options_.active_size && earliest_retry && !fill_retry_scheduled_) {
    fill_retry_scheduled_ = true;
    schedule({TimerKind::fill_active}, *earliest_retry);
  }
}

// The paper asks with high priority only when the active view is empty. We also insist when two
// or more slots are free: otherwise a node left two short among full nodes is refused forever,
// since full nodes reject low priority. Its high request evicts one peer elsewhere, which is then
// one short and asks with low priority, so the deficit spreads out instead of cascading.
Priority Core::wanted_priority() const {
  return active_.empty() || active_.size() + 2 <= options_.active_size ? Priority::high : Priority::low;
}

// A free slot, but none that a join swap in flight emptied for its target.
bool Core::has_room_for_low_priority() const {
  const auto swaps = std::count_if(pending_.begin(), pending_.end(), [](const auto& p) { return p.second.swap; });
  return active_.size() + static_cast<std::size_t>(swaps) < options_.active_size;
}

void Core::request_neighbor(const PeerId& candidate, Priority priority, Instant now,
                            const std::optional<PeerId>& dropping) {
  const std::uint64_t token = next_token_++;
  const Instant due = now + options_.neighbor_timeout;
  pending_[candidate.address] = {token, priority, due, false, dropping.has_value()};
  connect(candidate.address, Purpose::neighbor_request, now);
  send(candidate.address, Neighbor{priority, dropping});
  schedule({TimerKind::neighbor_timeout, candidate.address, token}, due);
}

// With no active peer left, re-join through the contacts after a jittered, capped backoff.
// Passive candidates keep being asked meanwhile (with high priority).
void Core::became_isolated(Instant now) {
  if (!active_.empty()) return;
  schedule_rejoin(now);
}

void Core::schedule_rejoin(Instant now) {
  if (contacts_.empty() || rejoin_token_ != 0 || active_.size() >= options_.active_size) return;
  rejoin_token_ = next_token_++;
  schedule({TimerKind::rejoin, {}, rejoin_token_}, now + jittered(rejoin_backoff_));
}

void Core::try_next_contact(Instant now) {
  const Address contact = contacts_[next_contact_ % contacts_.size()];
  ++next_contact_;
  if (const ActivePeer* known = find_active(contact)) {  // already a neighbour: ask it to walk us again
    send(contact, Join{});
    joined(known->id, now);
    return;
  }
  connect(contact, Purpose::join_contact, now);
  Link& link = links_[contact];
  link.purpose = Purpose::join_contact;
  send(contact, Join{});
  if (link.up && link.peer) joined(*link.peer, now);  // reused a link that was already open
}

void Core::joined(const PeerId& contact, Instant now) {
  joining_ = false;
  add_active(contact, now);
  if (report_join_) outputs_.push_back(JoinSucceeded{contact});
  report_join_ = false;
}

void Core::quarantine(const PeerId& peer, Instant now) {
  if (options_.lost_quarantine <= Duration::zero()) return;
  lost_[peer.address] = {peer.incarnation, now + options_.lost_quarantine};
}

bool Core::is_quarantined(const PeerId& peer, Instant now) const {
  const auto it = lost_.find(peer.address);
  return it != lost_.end() && it->second.until > now && peer.incarnation <= it->second.incarnation;
}

void Core::remember_lost(const PeerId& peer, Instant now) {
  if (options_.heal_memory == 0 || left_) return;
  forget_lost(peer.address);
  if (suspects_.size() >= options_.heal_memory) suspects_.erase(suspects_.begin());  // the oldest goes
  const Instant first_try = heal_wait(options_.heal_retry_min, now);
  suspects_.push_back({peer, first_try, now + options_.heal_forget_after, options_.heal_retry_min});
  schedule_heal(first_try);
}

void Core::forget_lost(const Address& peer) {
  std::erase_if(suspects_, [&](const Suspect& s) { return s.id.address == peer; });
}

// Uniform in [backoff/2, backoff]: the peers that lost one node at the same moment (it was cut
// off) do not all ask it again in the same instant.
Instant Core::heal_wait(Duration backoff, Instant now) {
  return now + std::chrono::duration_cast<Duration>(backoff * (0.5 + 0.5 * heal_rng_.unit()));
}

void Core::schedule_heal(Instant at) {
  if (heal_token_ != 0 && heal_due_ <= at) return;  // the timer in place fires first
  heal_token_ = next_token_++;
  heal_due_ = at;
  schedule({TimerKind::heal, {}, heal_token_}, at);
}

std::vector<PeerId> Core::lost_peers() const {
  std::vector<PeerId> out;
  for (const Suspect& s : suspects_) out.push_back(s.id);
  return out;
}

// ---------------------------------------------------------------- helpers

void Core::connect(const Address& peer, Purpose purpose, Instant now) {
  auto [it, inserted] = links_.try_emplace(peer);
  if (!inserted) {
    // Reuse the link we have (one link per address); it now serves this purpose too.
    if (it->second.purpose != Purpose::active) it->second.purpose = purpose;
    return;
  }
  it->second.purpose = purpose;
  it->second.since = now;
  outputs_.push_back(Connect{peer});
}

void Core::close(const Address& peer) {
  if (links_.erase(peer) > 0) outputs_.push_back(Close{peer});
}

Duration Core::jittered(Duration base) {
  const double factor = 1.0 + options_.timer_jitter * (2.0 * rng_.unit() - 1.0);
  return std::chrono::duration_cast<Duration>(base * factor);
}

void Core::advance(Instant now) {
  assert(now >= last_now_ && "time must not go backwards");
  last_now_ = now;
}

Core::ActivePeer* Core::find_active(const Address& peer) {
  for (ActivePeer& a : active_) {
    if (a.id.address == peer) return &a;
  }
  return nullptr;
}

const PeerId* Core::find_passive(const Address& peer) const {
  for (const PeerId& p : passive_) {
    if (p.address == peer) return &p;
  }
  return nullptr;
}

std::vector<PeerId> Core::active_view() const {
  std::vector<PeerId> out;
  out.reserve(active_.size());
  for (const ActivePeer& a : active_) out.push_back(a.id);
  return out;
}

bool Core::is_active(const Address& peer) const {
  return std::any_of(active_.begin(), active_.end(), [&](const ActivePeer& a) { return a.id.address == peer; });
}

bool Core::is_passive(const Address& peer) const { return find_passive(peer) != nullptr; }

}  // namespace hypar::hyparview
