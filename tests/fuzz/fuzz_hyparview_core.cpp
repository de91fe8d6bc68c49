// SPDX-License-Identifier: Apache-2.0
// A stateful target: the input is decoded into options and then a sequence of inputs to one
// hyparview::Core (messages received from peers, links up and down, failed connects, timers firing
// at increasing times, join, leave). The driver plays the transport and the timer service exactly
// as the link contract in core.hpp describes, and checks after every input:
//   - views: sizes within bounds, self in neither, active and passive disjoint, no duplicates;
//   - events: the PeerUp/PeerDown stream replays to exactly the active view (no PeerUp twice, no
//     PeerDown for a peer that was not up), and every active peer has a link that is up;
//   - links: Connect only where no link is open or opening, Close only where one is, never to self;
//   - timers: never scheduled in the past; exactly one shuffle, one sweep and (when enabled) one
//     keepalive timer outstanding at all times, so no periodic duty is lost or doubled;
//   - sends: never to self, and every message is within the wire limits and survives an
//     encode/decode round trip (what the node would put on the wire);
//   - after leave(): empty views and no output at all, whatever comes next.
// The core's own assertions (time never goes backwards, ...) are compiled in as well.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "hypar/hyparview/codec.hpp"
#include "hypar/hyparview/core.hpp"

namespace {

namespace hv = hypar::hyparview;
using hypar::Address;
using hypar::Duration;
using hypar::Instant;
using hypar::PeerId;

constexpr int kPeers = 10;  // remote peers are 1..kPeers; index 0 is this node's own address

Address address_of(int index) { return Address::v4(10, 0, 0, static_cast<std::uint8_t>(index), 7000); }
PeerId peer_of(int index, std::uint64_t incarnation) {
  return PeerId{address_of(index), "n" + std::to_string(index), incarnation};
}

enum class LinkState { opening, up };

// HYPAR_FUZZ_TRACE=1 prints every input and output, to read a crashing input as a story:
//   HYPAR_FUZZ_TRACE=1 build-fuzz/tests/fuzz/hypar_fuzz_hyparview_core CRASH_FILE
const bool g_trace = std::getenv("HYPAR_FUZZ_TRACE") != nullptr;
#define trace(...)                              \
  do {                                          \
    if (g_trace) std::fprintf(stderr, __VA_ARGS__); \
  } while (false)
std::string str(const Address& a) { return a.to_string(); }
std::string str(const PeerId& p) { return p.to_string(); }
std::string str(const hv::Message& m) {
  std::string out = hv::message_name(m);
  if (const auto* f = std::get_if<hv::ForwardJoin>(&m)) out += " " + str(f->joiner) + " ttl " + std::to_string(f->ttl);
  if (const auto* n = std::get_if<hv::Neighbor>(&m)) out += n->priority == hv::Priority::high ? " high" : " low";
  if (const auto* r = std::get_if<hv::NeighborReply>(&m)) out += r->accepted ? " accepted" : " rejected";
  if (const auto* d = std::get_if<hv::Disconnect>(&m)) out += d->alive ? " alive" : " leaving";
  const std::vector<PeerId>* peers = nullptr;
  if (const auto* sh = std::get_if<hv::Shuffle>(&m)) {
    out += " origin " + str(sh->origin) + " ttl " + std::to_string(sh->ttl) + " id " + std::to_string(sh->id);
    peers = &sh->peers;
  }
  if (const auto* sr = std::get_if<hv::ShuffleReply>(&m)) {
    out += " id " + std::to_string(sr->id);
    peers = &sr->peers;
  }
  if (peers) {
    out += " [";
    for (const PeerId& p : *peers) out += " " + str(p);
    out += " ]";
  }
  return out;
}
long long ms(Instant t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); }
const char* kind_name(hv::TimerKind k) {
  const char* names[] = {"shuffle", "keepalive", "rejoin", "neighbor_timeout", "fill_active", "sweep"};
  return names[static_cast<int>(k)];
}

class Driver {
 public:
  Driver(FuzzedDataProvider& in, const hv::Options& options, std::uint64_t seed)
      : in_(in), options_(options), core_(peer_of(0, 1), options, seed) {
    core_.start(now_);
    drain();
    check();
  }

  void step() {
    switch (in_.ConsumeIntegralInRange<int>(0, 15)) {
      case 0:
      case 1: now_ += hypar::milliseconds(in_.ConsumeIntegralInRange<int>(0, in_.ConsumeBool() ? 2000 : 60000)); break;
      case 2: link_up(); break;
      case 3: link_down(); break;
      case 4: connect_failed(); break;
      case 5:
      case 6:
      case 7: received_message(); break;
      case 8: received_bytes(); break;
      case 9:
      case 10: fire_one(); break;
      case 11: fire_due(); break;
      case 12: join(); break;
      case 13:
        if (in_.ConsumeIntegralInRange<int>(0, 7) == 0) leave_now();
        break;
      default: {
        const Address from = pick_sender();
        deliver(from, hv::Keepalive{});
        break;
      }
    }
    drain();
    check();
  }

  void start_with_join() { join(); drain(); check(); }

 private:
  // ---- inputs, each respecting the link contract of core.hpp ----
  int pick_index() { return in_.ConsumeIntegralInRange<int>(0, kPeers); }
  PeerId pick_peer() {
    const int index = pick_index();  // index first, then incarnation: the input's order is fixed
    return peer_of(index, in_.ConsumeIntegralInRange<std::uint64_t>(1, 3));
  }

  // Mostly a peer with an open link (where messages come from), sometimes any address.
  Address pick_sender() {
    if (!links_.empty() && in_.ConsumeIntegralInRange<int>(0, 7) != 0) {
      auto it = links_.begin();
      std::advance(it, in_.ConsumeIntegralInRange<std::size_t>(0, links_.size() - 1));
      return it->first;
    }
    return address_of(pick_index());
  }

  void link_up() {
    const PeerId peer = pick_peer();
    const auto it = links_.find(peer.address);
    if (it != links_.end() && it->second == LinkState::up) return;  // one link per address
    links_[peer.address] = LinkState::up;  // our connect completed, or the peer connected to us
    trace("%lld ms: link_up %s\n", ms(now_), str(peer).c_str());
    core_.link_up(peer, now_);
  }
  void link_down() {
    const Address a = address_of(pick_index());
    const auto it = links_.find(a);
    if (it == links_.end() || it->second != LinkState::up) return;  // only an established link breaks
    links_.erase(it);
    trace("%lld ms: link_down %s\n", ms(now_), str(a).c_str());
    core_.link_down(a, now_);
  }
  void connect_failed() {
    const Address a = address_of(pick_index());
    const auto it = links_.find(a);
    if (it == links_.end() || it->second != LinkState::opening) return;  // only a connect in progress fails
    links_.erase(it);
    trace("%lld ms: connect_failed %s\n", ms(now_), str(a).c_str());
    core_.connect_failed(a, now_);
  }

  std::vector<PeerId> make_peers() {
    std::vector<PeerId> peers(in_.ConsumeIntegralInRange<std::size_t>(0, 12));
    for (PeerId& p : peers) p = pick_peer();
    return peers;
  }
  hv::Message make_message() {
    switch (in_.ConsumeIntegralInRange<int>(0, 7)) {
      case 0: return hv::Join{};
      case 1: return hv::ForwardJoin{pick_peer(), in_.ConsumeIntegralInRange<std::uint8_t>(0, 10)};
      case 2: {
        const hv::Priority priority = in_.ConsumeBool() ? hv::Priority::high : hv::Priority::low;
        return hv::Neighbor{priority, in_.ConsumeBool() ? std::optional<PeerId>(pick_peer()) : std::nullopt};
      }
      case 3: return hv::NeighborReply{in_.ConsumeBool()};
      case 4: {
        const bool alive = in_.ConsumeBool();
        return hv::Disconnect{alive, in_.ConsumeBool() ? std::optional<PeerId>(pick_peer()) : std::nullopt};
      }
      case 5: {
        hv::Shuffle s;
        s.origin = pick_peer();
        s.ttl = in_.ConsumeIntegralInRange<std::uint8_t>(0, 10);
        s.id = in_.ConsumeIntegralInRange<std::uint32_t>(0, 8);
        s.peers = make_peers();
        return s;
      }
      case 6: {
        hv::ShuffleReply r;
        r.id = in_.ConsumeIntegralInRange<std::uint32_t>(0, 8);
        r.peers = make_peers();
        return r;
      }
      default: return hv::Keepalive{};
    }
  }
  void deliver(const Address& from, const hv::Message& message) {
    trace("%lld ms: received from %s: %s\n", ms(now_), str(from).c_str(), str(message).c_str());
    core_.received(from, message, now_);
  }
  void received_message() {
    const Address from = pick_sender();  // read before the message: the input's order is fixed
    const hv::Message message = make_message();
    deliver(from, message);
  }
  // A message straight from wire bytes (any addresses, names and counts the codec accepts).
  void received_bytes() {
    const std::string bytes = in_.ConsumeRandomLengthString(256);
    const auto decoded = hv::decode({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    if (!decoded) return;
    const Address from = pick_sender();
    deliver(from, decoded.message());
  }

  // Fires one scheduled timer: one already due, or else the next one (time moves to its instant).
  void fire_one() {
    if (timers_.empty()) return;
    std::vector<std::size_t> due;
    for (std::size_t i = 0; i < timers_.size(); ++i) {
      if (timers_[i].at <= now_) due.push_back(i);
    }
    std::size_t index;
    if (due.empty()) {
      index = static_cast<std::size_t>(std::min_element(timers_.begin(), timers_.end(),
                                                        [](const auto& a, const auto& b) { return a.at < b.at; }) -
                                       timers_.begin());
      now_ = timers_[index].at;
    } else {
      index = due[in_.ConsumeIntegralInRange<std::size_t>(0, due.size() - 1)];
    }
    const hv::Timer timer = timers_[index].timer;
    timers_.erase(timers_.begin() + static_cast<std::ptrdiff_t>(index));
    fire(timer);
  }
  void fire(const hv::Timer& timer) {
    trace("%lld ms: timer %s %s #%llu\n", ms(now_), kind_name(timer.kind), str(timer.peer).c_str(),
          static_cast<unsigned long long>(timer.token));
    core_.timer_fired(timer, now_);
  }
  // Fires every timer due now, earliest first, as a late timer service would.
  void fire_due() {
    for (int round = 0; round < 64; ++round) {
      auto next = std::min_element(timers_.begin(), timers_.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
      if (next == timers_.end() || next->at > now_) return;
      const hv::Timer timer = next->timer;
      timers_.erase(next);
      fire(timer);
      drain();
      check();
    }
  }

  void join() {
    std::vector<Address> contacts(in_.ConsumeIntegralInRange<std::size_t>(0, 3));
    for (Address& a : contacts) a = address_of(pick_index());
    trace("%lld ms: join (%zu contacts)\n", ms(now_), contacts.size());
    core_.join(contacts, now_);
  }
  void leave_now() {
    trace("%lld ms: leave\n", ms(now_));
    core_.leave(now_);
    left_ = true;
    // leave() closes every link; its outputs are checked by drain() like any others.
    leaving_ = true;
  }

  // ---- outputs ----
  void drain() {
    std::vector<hv::Output> outputs;
    core_.take_outputs(outputs);
    FUZZ_CHECK(!left_ || leaving_ || outputs.empty(), "a node that left produces no output");
    leaving_ = false;
    for (const hv::Output& output : outputs) {
      std::visit([this](const auto& o) { on_output(o); }, output);
    }
  }
  void on_output(const hv::Connect& c) {
    trace("  -> Connect %s\n", str(c.peer).c_str());
    FUZZ_CHECK(c.peer != self(), "never connects to itself");
    FUZZ_CHECK(!links_.count(c.peer), "Connect only where no link is open or opening");
    links_[c.peer] = LinkState::opening;
  }
  void on_output(const hv::Close& c) {
    trace("  -> Close %s\n", str(c.peer).c_str());
    FUZZ_CHECK(links_.erase(c.peer) == 1, "Close only where a link is open or opening");
  }
  void on_output(const hv::Send& s) {
    trace("  -> Send %s: %s\n", str(s.to).c_str(), str(s.message).c_str());
    FUZZ_CHECK(s.to != self(), "never sends to itself");
    check_encodable(s.message);
  }
  void on_output(const hv::ScheduleTimer& t) {
    trace("  -> ScheduleTimer %s %s #%llu at %lld ms\n", kind_name(t.timer.kind), str(t.timer.peer).c_str(),
          static_cast<unsigned long long>(t.timer.token), ms(t.at));
    FUZZ_CHECK(t.at >= now_, "a timer is never scheduled in the past");
    timers_.push_back(t);
  }
  void on_output(const hv::PeerUp& up) {
    trace("  -> PeerUp %s\n", str(up.peer).c_str());
    FUZZ_CHECK(up.peer.address != self(), "self never comes up");
    FUZZ_CHECK(up_.emplace(up.peer.address, up.peer).second, "no PeerUp for a peer already up");
  }
  void on_output(const hv::PeerDown& down) {
    trace("  -> PeerDown %s (%s)\n", str(down.peer).c_str(), hv::reason_name(down.reason));
    const auto it = up_.find(down.peer.address);
    FUZZ_CHECK(it != up_.end() && it->second == down.peer, "PeerDown only for the peer that is up");
    up_.erase(it);
  }
  void on_output(const hv::JoinSucceeded& j) {
    trace("  -> JoinSucceeded %s\n", str(j.contact).c_str());     FUZZ_CHECK(j.contact.address != self(), "never joins through itself");
  }
  void on_output(const hv::JoinFailed&) { trace("  -> JoinFailed\n"); }

  static void check_encodable(const hv::Message& message) {
    if (const auto* s = std::get_if<hv::Shuffle>(&message)) {
      FUZZ_CHECK(s->peers.size() <= hv::kMaxShufflePeers, "a SHUFFLE sent is within the wire limit");
    }
    if (const auto* r = std::get_if<hv::ShuffleReply>(&message)) {
      FUZZ_CHECK(r->peers.size() <= hv::kMaxShufflePeers, "a SHUFFLE_REPLY sent is within the wire limit");
    }
    std::vector<std::uint8_t> bytes;
    hv::encode(message, bytes);
    const auto decoded = hv::decode(bytes);
    FUZZ_CHECK(decoded && decoded.message() == message, "every message sent survives the wire");
  }

  // ---- invariants ----
  void check() const {
    // What the core's state must satisfy on its own (view sizes, self, duplicates, disjoint views,
    // links behind active peers, ...): the core's list, not a copy of it.
    for (const std::string& problem : core_.check_invariants()) FUZZ_CHECK(false, problem.c_str());
    // What only a driver sees: the links as the outputs opened them, PeerUp/PeerDown, timers.
    const std::vector<PeerId> active = core_.active_view();
    for (const PeerId& peer : active) {
      const auto link = links_.find(peer.address);
      FUZZ_CHECK(link != links_.end() && link->second == LinkState::up, "every active peer has a link that is up");
      const auto up = up_.find(peer.address);
      FUZZ_CHECK(up != up_.end() && up->second == peer, "every active peer was announced by PeerUp");
    }
    FUZZ_CHECK(up_.size() == active.size(), "every peer announced up and not down is active");
    // Every pending NEIGHBOR request has a link, open or opening (a failed connect ends it).
    std::size_t pending_with_link = 0;
    for (const auto& [peer, state] : links_) pending_with_link += core_.is_pending(peer) ? 1 : 0;
    FUZZ_CHECK(pending_with_link == core_.pending_requests(), "every pending request has a link");
    if (left_) return;  // (a node that left keeps no view: in the core's list)
    FUZZ_CHECK(outstanding(hv::TimerKind::shuffle) == 1, "exactly one shuffle timer is outstanding");
    FUZZ_CHECK(outstanding(hv::TimerKind::sweep) == 1, "exactly one sweep timer is outstanding");
    const std::size_t keepalives = options_.keepalive_interval > Duration::zero() ? 1 : 0;
    FUZZ_CHECK(outstanding(hv::TimerKind::keepalive) == keepalives, "exactly one keepalive timer when enabled");
  }
  std::size_t outstanding(hv::TimerKind kind) const {
    return static_cast<std::size_t>(
        std::count_if(timers_.begin(), timers_.end(), [kind](const auto& t) { return t.timer.kind == kind; }));
  }
  Address self() const { return core_.self().address; }

  FuzzedDataProvider& in_;
  hv::Options options_;
  hv::Core core_;
  Instant now_{};
  std::map<Address, LinkState> links_;    // the transport's links, as the outputs and inputs made them
  std::map<Address, PeerId> up_;          // PeerUp minus PeerDown
  std::vector<hv::ScheduleTimer> timers_; // scheduled and not fired yet
  bool left_ = false;
  bool leaving_ = false;
};

hv::Options options_from(FuzzedDataProvider& in) {
  hv::Options o;
  o.active_size = in.ConsumeIntegralInRange<std::size_t>(1, 5);
  o.passive_size = in.ConsumeIntegralInRange<std::size_t>(1, 8);
  o.arwl = in.ConsumeIntegralInRange<std::uint8_t>(1, 7);
  o.prwl = in.ConsumeIntegralInRange<std::uint8_t>(0, o.arwl);
  o.k_active = in.ConsumeIntegralInRange<std::size_t>(0, 4);
  o.k_passive = in.ConsumeIntegralInRange<std::size_t>(0, 4);
  o.timer_jitter = in.ConsumeBool() ? 0.0 : 0.1;
  if (in.ConsumeBool()) o.keepalive_interval = Duration::zero();
  if (in.ConsumeBool()) o.lost_quarantine = Duration::zero();
  if (in.ConsumeBool()) o.reject_backoff = Duration::zero();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const hv::Options options = options_from(in);
  FUZZ_CHECK(options.validate().empty(), "the driver builds valid options");
  Driver driver(in, options, in.ConsumeIntegral<std::uint8_t>());
  if (in.ConsumeBool()) driver.start_with_join();
  for (int steps = 0; steps < 512 && in.remaining_bytes() > 0; ++steps) driver.step();
  return 0;
}
