// SPDX-License-Identifier: Apache-2.0
#pragma once
// Event hooks of the node apps (`--on-peer-up CMD`, `--on-peer-down CMD`, `--hook-timeout`): a
// command run once per change of the active view, with the peer in environment variables:
//   HYPAR_EVENT        peer_up | peer_down
//   HYPAR_PEER         its address (IP:PORT)
//   HYPAR_PEER_NAME    its name
//   HYPAR_PEER_REASON  why it went down (peer_down only)
//   HYPAR_PEER_META_<KEY>  each metadata entry (key upper-cased, other than A-Z 0-9 as `_`)
//
// Hooks run one at a time on a thread of their own, never on the node's. Events for a peer whose
// hook has not started yet collapse into its latest state, and a state equal to the one the hooks
// last reported for that peer runs nothing (an up then a down cancel out), so:
// - replaying the hook invocations in order always gives the current active view, once idle;
// - what waits is one entry per peer, however fast events come, and post() never blocks on a hook.
// A hook that fails is logged with its exit status; one running past the timeout is killed
// (with everything it started) and logged.
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/metadata.hpp"
#include "hypar/time.hpp"

namespace hypar::app {

struct HookCommands {
  std::string on_peer_up;    // empty: none
  std::string on_peer_down;  // empty: none
  Duration timeout = std::chrono::seconds(10);

  bool any() const { return !on_peer_up.empty() || !on_peer_down.empty(); }
};

struct PeerChange {
  bool up = true;
  Address peer;
  std::string name;
  std::string reason;  // for a down
  Metadata metadata;   // for an up
};

struct HookStats {
  std::uint64_t runs = 0;       // commands started
  std::uint64_t failures = 0;   // exited non-zero, killed by a signal, or not started
  std::uint64_t timeouts = 0;   // killed after the timeout
  std::uint64_t collapsed = 0;  // events that ran nothing: replaced by a later one, or no change
};

// "HYPAR_PEER_META_" + the key upper-cased, characters other than A-Z and 0-9 as '_'.
std::string metadata_variable(std::string_view key);
// The variables for one hook run ("NAME=VALUE").
std::vector<std::string> hook_environment(const PeerChange& change);

class PeerHooks {
 public:
  explicit PeerHooks(HookCommands commands);
  // Lets the running hook finish (bounded by the timeout) and drops the waiting ones (logged).
  ~PeerHooks();
  PeerHooks(const PeerHooks&) = delete;
  PeerHooks& operator=(const PeerHooks&) = delete;

  // Thread-safe; never waits for a hook.
  void post(PeerChange change);

  // Blocks until nothing waits or runs, or `bound` passed; true if idle.
  bool wait_idle(Duration bound);
  std::size_t waiting() const;
  HookStats stats() const;

 private:
  struct Waiting {
    PeerChange change;
    std::list<Address>::iterator position;
  };
  void work();
  void run(const PeerChange& change);

  HookCommands commands_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::list<Address> order_;               // peers with a change waiting, by their latest event
  std::map<Address, Waiting> waiting_;     // the latest change per peer
  std::set<Address> reported_up_;          // peers whose last hook said "up" (worker thread only)
  bool running_ = false;
  bool stopping_ = false;
  HookStats stats_;
  std::thread worker_;  // last: started once the members above exist
};

}  // namespace hypar::app
