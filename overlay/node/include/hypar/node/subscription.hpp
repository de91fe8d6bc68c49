// SPDX-License-Identifier: Apache-2.0
#pragma once
// Membership subscriptions: any number of independent readers of a Node's active-view changes,
// next to its one event stream (Node::next_event, which keeps the messages).
//
//   hypar::MembershipSubscription members = node.subscribe();  // starts with the active view
//   while (std::optional<hypar::MembershipEvent> e = co_await members.next()) {  // nullopt: stopped
//     if (auto* up = std::get_if<hypar::LinkUp>(&*e)) connect(up->peer, up->metadata);
//     else if (auto* down = std::get_if<hypar::LinkDown>(&*e)) disconnect(down->peer);
//     else forget_everyone();  // Lagged: the next view_size events are the whole active view
//   }
//
// Semantics:
// - A new subscription starts with the current active view, one LinkUp (with metadata) per peer,
//   then every later LinkUp / LinkDown in the order the node saw them. Applying the events in
//   order to an empty set always gives the node's active view as of the last event taken.
// - Each subscription has its own bounded buffer. When a subscriber falls behind and an event
//   would overflow its buffer, the buffered events and that one are dropped and replaced by
//   Lagged{missed, view_size} followed by the active view as view_size LinkUps, then live events
//   again. The node never waits for a subscriber, and a subscriber's memory stays bounded (its
//   capacity plus one snapshot of the active view).
// - next() returns nullopt once the subscription is closed, or once the node has stopped and the
//   events pending before the stop were taken (after leave(), the LinkDowns of the goodbye).
// - The node's own stream (next_event(s)) still gets every event and still needs a reader: its
//   queue backpressures the peers when full (NodeConfig::event_queue_limit).
// Threads: like the Node, call every member from the node's executor (Node::get_executor());
// one reader at a time per subscription.
#include <asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>

#include "hypar/node/events.hpp"

namespace hypar {

// The subscriber missed `missed` membership events (LinkUp / LinkDown) because its buffer was
// full. The next `view_size` events are LinkUps forming the whole active view at that moment:
// replace what was known with them.
struct Lagged {
  std::uint64_t missed = 0;
  std::size_t view_size = 0;
};

using MembershipEvent = std::variant<LinkUp, LinkDown, Lagged>;

// The default buffer of Node::subscribe, in events. A subscriber holds at most this many events
// (each a PeerId and up to 1 KiB of metadata) plus one snapshot of the active view.
inline constexpr std::size_t kDefaultSubscriptionCapacity = 256;

class MembershipSubscription {
 public:
  struct State;  // shared with the node (overlay/node/src/membership_hub.hpp)

  // A closed subscription (next() returns nullopt). Node::subscribe makes open ones.
  MembershipSubscription() = default;
  explicit MembershipSubscription(std::shared_ptr<State> state);
  MembershipSubscription(MembershipSubscription&&) noexcept = default;
  MembershipSubscription& operator=(MembershipSubscription&& other) noexcept;
  ~MembershipSubscription();  // closes it

  // The next event; waits while none is pending. nullopt once closed, or once the node stopped
  // and nothing is left (an expected outcome: see "Errors" in docs/api.md).
  asio::awaitable<std::optional<MembershipEvent>> next();
  // The next event if one is pending; never waits.
  std::optional<MembershipEvent> poll();
  // Unregisters from the node and drops the buffer; a next() waiting meanwhile returns nullopt.
  // Idempotent.
  void close();

  bool is_open() const;
  std::size_t pending() const;   // events buffered now
  std::size_t capacity() const;  // the buffer's bound (0 when closed)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace hypar
