// SPDX-License-Identifier: Apache-2.0
#pragma once
// The node's side of membership subscriptions (hypar/node/subscription.hpp): a mirror of the
// active view built from the very events it publishes (so a snapshot is always consistent with
// the stream), and one bounded buffer per subscriber. Publishing never waits: a full buffer is
// replaced by a Lagged notice and a snapshot of the mirror.
// The mirror exists only while someone subscribes: the first subscriber's starts from the
// owner's `current_view` (the active view as published so far), the last one's leaving frees it.
// A node nobody subscribes to keeps no copy of its view.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hypar/node/subscription.hpp"
#include "hypar/runtime/notifier.hpp"

namespace hypar {

class MembershipHub;

struct MembershipSubscription::State {
  State(std::uint64_t id_, std::size_t capacity_, std::weak_ptr<MembershipHub> hub_)
      : id(id_), capacity(capacity_), hub(std::move(hub_)) {}

  // Adds a live event, or, when the buffer is full, replaces the buffer by Lagged + `view`.
  // Returns true when it lagged.
  bool push(const MembershipEvent& event, const std::vector<LinkUp>& view);
  void push_snapshot(const std::vector<LinkUp>& view);
  std::optional<MembershipEvent> pop();

  std::uint64_t id;  // in the node's logs: subscriber #id
  std::deque<MembershipEvent> buffer;
  // Invariant: the first `synthetic` entries of `buffer` are a snapshot (and its Lagged), not live
  // events; they are not counted as missed when the buffer overflows again.
  std::size_t synthetic = 0;
  std::size_t capacity;
  bool closed = false;  // by the subscriber: buffer dropped, next() returns nullopt
  bool ended = false;   // the node stopped: what is buffered drains, then nullopt
  Notifier ready;       // an event arrived, or closed / ended
  std::weak_ptr<MembershipHub> hub;
};

class MembershipHub : public std::enable_shared_from_this<MembershipHub> {
 public:
  using ViewSource = std::function<std::vector<LinkUp>()>;
  MembershipHub(std::string node_name, ViewSource current_view);

  // A new subscriber, starting with the mirror as LinkUps. `capacity` is raised to
  // `min_capacity` (room for a Lagged, a full active view and one live event).
  MembershipSubscription subscribe(std::size_t capacity, std::size_t min_capacity);
  // The active view changed: update the mirror, hand the event to every subscriber. Returns how
  // many subscribers lagged on it.
  std::size_t publish(const LinkUp& up);
  std::size_t publish(const LinkDown& down);
  // The node stopped: subscribers drain what they hold, then get nullopt; later ones start ended.
  void stop();
  void remove(const MembershipSubscription::State* state);

  std::size_t subscribers() const { return subscribers_.size(); }

 private:
  std::size_t deliver(const MembershipEvent& event);

  std::string node_name_;  // for logs
  ViewSource current_view_;
  std::vector<LinkUp> view_;  // with subscribers: the active view as published, in the order peers came up
  std::vector<std::shared_ptr<MembershipSubscription::State>> subscribers_;
  std::uint64_t next_id_ = 1;
  bool stopped_ = false;
};

}  // namespace hypar
