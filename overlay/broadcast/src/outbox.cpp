// SPDX-License-Identifier: Apache-2.0
// Sending the core's messages through the node. A message goes straight into the peer's node
// queue with try_send; when that queue is full, it waits in a per-peer backlog that one drain
// coroutine sends in order with co_await node.send().
#include <utility>

#include "broadcaster_impl.hpp"
#include "hypar/log.hpp"
#include "hypar/plumtree/codec.hpp"

namespace hypar {

void Broadcaster::Impl::send(const Address& to, const plumtree::Message& message) {
  scratch.clear();
  plumtree::encode(message, scratch);
  auto it = backlogs.find(to);
  if (it == backlogs.end()) {
    const SendResult result = node.try_send(to, scratch);
    if (result == SendResult::ok) {
      if (std::holds_alternative<plumtree::IHave>(message)) ++stats.ihaves_sent;
      return;
    }
    if (result != SendResult::queue_full) {
      // not_a_peer: the link went down and its LinkDown is still on its way to us.
      ++stats.send_failed;
      log::debug("broadcaster: {} to {} not sent: {}", plumtree::message_name(message), to.to_string(),
                 describe(result));
      return;
    }
  }
  // The peer's queue is full, or earlier messages already wait for it.
  if (it == backlogs.end()) it = backlogs.emplace(to, std::make_shared<Backlog>(to)).first;
  const std::shared_ptr<Backlog>& backlog = it->second;
  // The byte bound applies to payloads (GOSSIP) and announcements (an IHAVE of a whole cache is
  // kilobytes): dropping either is made good once the peer drains, when it is told of every cached
  // message. GRAFT and PRUNE are a few dozen bytes, and dropping them would lose a graft nobody
  // repeats; they are bounded by the message count only. An IHAVE is never dropped silently: no
  // other neighbour repeats it once the flood is over (chaos-slow_consumer lost messages that way).
  const bool announcement = std::holds_alternative<plumtree::IHave>(message);
  const bool payload = plumtree::is_payload(message);
  const bool byte_bound = payload || announcement;
  if (backlog->messages.size() >= config.backlog_limit || (byte_bound && backlog->bytes >= config.backlog_byte_limit)) {
    ++(announcement ? stats.ihave_dropped : stats.backlog_dropped);
    if (byte_bound && !backlog->congested) {
      // Stop pushing payloads to it: it gets IHAVEs (dropped while the backlog lasts), and once
      // the backlog has drained, the ids of the cached messages, so it grafts what is dropped here.
      backlog->congested = true;
      ++stats.peers_congested;
      log::info("broadcaster: {} cannot keep up ({} messages, {} bytes waiting): lazy push until it drains",
                to.to_string(), backlog->messages.size(), backlog->bytes);
      state.peer_congested(to, Clock::now());  // its outputs (none) are carried out by pump()
    }
    return;
  }
  backlog->bytes += scratch.size();
  backlog->messages.push_back(scratch);
  ++stats.backlogged;
  if (announcement) ++stats.ihaves_sent;  // sent once the backlog reaches it
  if (!backlog->draining) {
    backlog->draining = true;
    spawn(drain(backlog), "backlog drain");
  }
}

void Broadcaster::Impl::forget_backlog(const Address& peer) {
  const auto it = backlogs.find(peer);
  if (it == backlogs.end()) return;
  it->second->abandoned = true;  // its drain ends after the send in flight
  stats.send_failed += it->second->messages.size();
  backlogs.erase(it);
}

asio::awaitable<void> Broadcaster::Impl::drain(std::shared_ptr<Backlog> backlog) {
  auto keep = shared_from_this();
  bool failed = false;
  while (!backlog->abandoned && !backlog->messages.empty()) {
    // The message stays at the front (and alive) while send() waits for space.
    const SendResult result = co_await node.send(backlog->peer, backlog->messages.front());
    if (is_stopped || backlog->abandoned) break;
    if (result != SendResult::ok) {
      stats.send_failed += backlog->messages.size();
      log::debug("broadcaster: backlog for {} dropped: {}", backlog->peer.to_string(), describe(result));
      backlog->messages.clear();
      backlog->bytes = 0;
      failed = true;
      break;
    }
    backlog->bytes -= backlog->messages.front().size();
    backlog->messages.pop_front();
  }
  backlog->draining = false;
  if (is_stopped) co_return;
  const auto it = backlogs.find(backlog->peer);
  if (it == backlogs.end() || it->second != backlog || !backlog->messages.empty()) co_return;
  backlogs.erase(it);
  if (backlog->congested && !failed && !backlog->abandoned) {
    log::info("broadcaster: {} caught up: announcing the cached messages to it", backlog->peer.to_string());
    state.peer_drained(backlog->peer, Clock::now());
    pump();
  }
}

}  // namespace hypar
