// SPDX-License-Identifier: Apache-2.0
#pragma once
// Drives one hyparview::Core by hand in tests: feeds inputs at a controlled virtual time and
// keeps every output for inspection.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "support/all_of.hpp"
#include "hypar/hyparview/core.hpp"

namespace hypar::hyparview::testing {

inline PeerId peer(int i, std::uint64_t incarnation = 1) {
  return PeerId{Address::v4(127, 0, 1, static_cast<std::uint8_t>(i), 7000), "n" + std::to_string(i), incarnation};
}

inline Options quiet_options() {
  Options o;
  o.timer_jitter = 0.0;  // exact timer instants make assertions simple
  return o;
}

struct Harness {
  explicit Harness(Options options = quiet_options(), int self_index = 0, std::uint64_t seed = 42)
      : core(peer(self_index), options, seed) {
    core.start(now);
    drain();
    start_timers = out;
    clear();
  }

  Core core;
  Instant now{};
  std::vector<Output> out;            // outputs since the last clear()
  std::vector<Output> start_timers;   // what start() scheduled

  void drain() {
    core.take_outputs(out);  // appends
  }
  void clear() { out.clear(); }
  void advance(Duration d) { now += d; }

  // ---- inputs, each followed by a drain ----
  void link_up(const PeerId& p) { core.link_up(p, now), drain(); }
  void link_down(const PeerId& p) { core.link_down(p.address, now), drain(); }
  void connect_failed(const PeerId& p) { core.connect_failed(p.address, now), drain(); }
  void receive(const PeerId& from, const Message& m) { core.received(from.address, m, now), drain(); }
  void fire(const Timer& t) { core.timer_fired(t, now), drain(); }
  void join(std::vector<Address> contacts) { core.join(std::move(contacts), now), drain(); }

  // Makes `p` an active peer the way a remote node would: open a link and ask with high priority.
  void make_active(const PeerId& p) {
    link_up(p);
    receive(p, Neighbor{Priority::high});
  }

  // ---- queries over the recorded outputs ----
  template <class T>
  std::vector<T> all() const {
    return test::all_of<T>(out);
  }
  template <class M>
  std::vector<std::pair<Address, M>> sent() const {
    std::vector<std::pair<Address, M>> found;
    for (const auto& s : all<Send>()) {
      if (auto* m = std::get_if<M>(&s.message)) found.emplace_back(s.to, *m);
    }
    return found;
  }
  template <class M>
  std::vector<M> sent_to(const PeerId& p) const {
    std::vector<M> found;
    for (auto& [to, m] : sent<M>()) {
      if (to == p.address) found.push_back(m);
    }
    return found;
  }
  std::vector<ScheduleTimer> timers(TimerKind kind) const {
    std::vector<ScheduleTimer> found;
    for (const auto& t : all<ScheduleTimer>()) {
      if (t.timer.kind == kind) found.push_back(t);
    }
    return found;
  }
  bool closed(const PeerId& p) const {
    const auto c = all<Close>();
    return std::any_of(c.begin(), c.end(), [&](const Close& x) { return x.peer == p.address; });
  }
  bool connected(const PeerId& p) const {
    const auto c = all<Connect>();
    return std::any_of(c.begin(), c.end(), [&](const Connect& x) { return x.peer == p.address; });
  }
  std::vector<PeerDown> downs() const { return all<PeerDown>(); }
  std::vector<PeerUp> ups() const { return all<PeerUp>(); }

  bool active(const PeerId& p) const { return core.is_active(p.address); }
  bool passive(const PeerId& p) const { return core.is_passive(p.address); }
};

// Invariants that must hold after any sequence of inputs: the core's own list (invariants.cpp),
// checked here also in builds that do not check after every input.
inline void check_invariants(const Core& core) {
  const auto problems = core.check_invariants();
  if (!problems.empty()) throw std::logic_error(problems.front());
}

}  // namespace hypar::hyparview::testing
