// SPDX-License-Identifier: Apache-2.0
#pragma once
// Drives one plumtree::Core by hand in tests: feeds inputs at a controlled virtual time and keeps
// every output for inspection.
#include <algorithm>
#include <string>
#include <vector>

#include "support/all_of.hpp"
#include "hypar/plumtree/core.hpp"

namespace hypar::plumtree::testing {

inline Address addr(int i) { return Address::v4(127, 0, 2, static_cast<std::uint8_t>(i), 7000); }

inline std::vector<std::uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

struct Harness {
  explicit Harness(Options options = {}, int self_index = 0, std::uint64_t seed = 42)
      : core(addr(self_index), options, seed) {}

  Core core;
  Instant now{};
  std::vector<Output> out;  // outputs since the last clear()

  void drain() {
    const std::size_t first = out.size();
    core.take_outputs(out);  // appends
    for (std::size_t i = first; i < out.size(); ++i) {
      if (auto* t = std::get_if<ScheduleTimer>(&out[i])) pending_.push_back(*t);
    }
  }
  void clear() { out.clear(); }  // timers scheduled earlier stay pending
  void advance(Duration d) { now += d; }

  // ---- inputs, each followed by a drain ----
  void up(int peer) { core.neighbor_up(addr(peer), now), drain(); }
  void down(int peer) { core.neighbor_down(addr(peer), now), drain(); }
  void receive(int from, const Message& m) { core.received(addr(from), m, now), drain(); }
  void fire(const Timer& t) { core.timer_fired(t, now), drain(); }
  BroadcastResult broadcast(const std::string& text) {
    auto result = core.broadcast(bytes(text), now);
    drain();
    return result;
  }
  // Fires every pending timer due by now, earliest first (those they schedule included), each at
  // its own instant; `now` ends where it was.
  void fire_due() {
    const Instant end = now;
    for (;;) {
      auto due = pending_.end();
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->at <= end && (due == pending_.end() || it->at < due->at)) due = it;
      }
      if (due == pending_.end()) break;
      const ScheduleTimer t = *due;
      pending_.erase(due);
      now = std::max(now, t.at);
      fire(t.timer);
    }
    now = end;
  }
  // Moves time forward by `d`, firing the timers that fall due on the way.
  void run_for(Duration d) {
    now += d;
    fire_due();
  }

  // ---- queries over the recorded outputs ----
  template <class T>
  std::vector<T> all() const {
    return test::all_of<T>(out);
  }
  template <class M>
  std::vector<M> sent_to(int peer) const {
    std::vector<M> found;
    for (const auto& s : all<Send>()) {
      if (s.to != addr(peer)) continue;
      if (auto* m = std::get_if<M>(&s.message)) found.push_back(*m);
    }
    return found;
  }
  template <class M>
  std::size_t count_sent() const {
    std::size_t n = 0;
    for (const auto& s : all<Send>()) n += std::holds_alternative<M>(s.message) ? 1 : 0;
    return n;
  }
  std::vector<Deliver> delivered() const { return all<Deliver>(); }
  std::vector<ScheduleTimer> timers(TimerKind kind) const {
    std::vector<ScheduleTimer> found;
    for (const auto& t : all<ScheduleTimer>()) {
      if (t.timer.kind == kind) found.push_back(t);
    }
    return found;
  }

 private:
  std::vector<ScheduleTimer> pending_;  // scheduled, not yet fired by fire_due()
};

// A message id from peer `origin` with sequence number `seq`.
inline MessageId mid(int origin, std::uint64_t seq) { return MessageId{addr(origin), seq}; }

inline Gossip gossip(int origin, std::uint64_t seq, std::uint16_t hops, const std::string& text = "hello") {
  return Gossip{mid(origin, seq), hops, bytes(text)};
}

}  // namespace hypar::plumtree::testing
