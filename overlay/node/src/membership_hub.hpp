// SPDX-License-Identifier: Apache-2.0
#pragma once
// The node's side of membership subscriptions (hypar/node/subscription.hpp): a mirror of the
// active view built from the very events it publishes (so a snapshot is always consistent with
// the stream), and one bounded buffer per subscriber. Publishing never waits: a full buffer is
// replaced by a Lagged notice and a snapshot of the mirror.
#include <asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "hypar/node/subscription.hpp"
#include "hypar/runtime/notifier.hpp"

namespace hypar {

class MembershipHub;

struct MembershipSubscription::State {
  State(const asio::any_io_executor& executor, std::uint64_t id_, std::size_t capacity_,
        std::weak_ptr<MembershipHub> hub_)
      : id(id_), capacity(capacity_), ready(executor), hub(std::move(hub_)) {}

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
  MembershipHub(asio::any_io_executor executor, std::string node_name);

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
  const std::vector<LinkUp>& view() const { return view_; }

 private:
  std::size_t deliver(const MembershipEvent& event);

  asio::any_io_executor executor_;
  std::string node_name_;  // for logs
  std::vector<LinkUp> view_;  // the active view as published, in the order peers came up
  std::vector<std::shared_ptr<MembershipSubscription::State>> subscribers_;
  std::uint64_t next_id_ = 1;
  bool stopped_ = false;
};

}  // namespace hypar
