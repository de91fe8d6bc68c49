// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::PartialMesh: keeps an application's own connections in step with a node's active view,
// the way libcluster_hyparview keeps Erlang distribution in step with HyParView. HyParView
// decides whom to talk to; the application's connections follow, so a cluster of hundreds keeps
// a bounded partial mesh (one connection per active peer) instead of a full mesh.
//
//   PartialMesh<AppConnection> mesh(executor, {
//       .connect = [&](const MeshPeer& peer) { return dial(peer.metadata.at("app")); },
//       .disconnect = [](AppConnection& c) -> asio::awaitable<void> { c.close(); co_return; },
//   });
//   mesh.peer_up({peer.address, peer.name, metadata});  // on a LinkUp of the node
//   mesh.peer_down(peer.address);                        // on a LinkDown
//   for (const Address& a : mesh.connected()) use(*mesh.find(a));
//   co_await mesh.stop();  // cancels attempts, disconnects everything, joins its tasks
//
// Guarantees:
// - One keeper task per peer, so never two connect attempts to one peer at once.
// - A connection is kept only while its peer is up. A peer going down cancels its attempt
//   (the connect coroutine receives Asio's terminal cancellation) or disconnects its connection;
//   a connect that completes anyway after its peer went down is disconnected at once. A peer that
//   goes down and up again while connected is reconnected (it may be a new life of that peer).
// - A failed connect (it threw) is logged and retried after a capped, jittered, exponential
//   backoff while the peer stays up; the backoff restarts after a success.
// - Every task is a child of one TaskGroup: stop() ends them all before it returns.
// Threads: call every member from the executor given at construction (single-threaded).
// `connect` and `disconnect` run on it too; they must not call back into the mesh.
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hypar/address.hpp"
#include "hypar/log.hpp"
#include "hypar/mesh/backoff.hpp"
#include "hypar/rng.hpp"
#include "hypar/runtime/clock_timer.hpp"
#include "hypar/runtime/runtime.hpp"
#include "hypar/runtime/task_group.hpp"
#include "hypar/runtime/timer.hpp"
#include "hypar/time.hpp"

namespace hypar {

// A member of the active view, as the application needs it to connect: its membership address
// (the identity), its name and the metadata it advertises (e.g. its application endpoint).
struct MeshPeer {
  Address address;
  std::string name;
  std::map<std::string, std::string> metadata;
};

struct MeshOptions {
  Duration retry_min = std::chrono::milliseconds(200);  // first wait after a failed connect
  Duration retry_max = std::chrono::seconds(30);        // the longest wait between attempts
  std::uint64_t seed = 1;                               // for the backoff's jitter
};

// Counters since construction, for tests and metrics.
struct MeshStats {
  std::uint64_t attempts = 0;     // connects started
  std::uint64_t connects = 0;     // connections kept
  std::uint64_t failures = 0;     // connects that threw
  std::uint64_t abandoned = 0;    // attempts cancelled or connections refused because the peer went down
  std::uint64_t disconnects = 0;  // connections handed to disconnect
};

template <class Handle>
class PartialMesh {
 public:
  struct Callbacks {
    // Opens the application's connection to `peer`; throws on failure. Should honour Asio
    // cancellation (the mesh cancels it when the peer goes down); one that does not only delays
    // the end of its attempt.
    std::function<asio::awaitable<Handle>(const MeshPeer& peer)> connect;
    // Closes a connection; exceptions are logged and otherwise ignored.
    std::function<asio::awaitable<void>(Handle& connection)> disconnect;
  };

  PartialMesh(asio::any_io_executor executor, Callbacks callbacks, MeshOptions options = {})
      : executor_(std::move(executor)),
        callbacks_(std::move(callbacks)),
        options_(options),
        seeds_(options.seed),
        tasks_(executor_) {
    if (!callbacks_.connect || !callbacks_.disconnect) {
      throw std::invalid_argument("partial mesh: connect and disconnect are required");
    }
    Backoff check(options_.retry_min, options_.retry_max, 0);  // throws on bad bounds
  }
  // Call stop() and let it finish first; destroying a running mesh abandons its connections.
  ~PartialMesh() = default;
  PartialMesh(const PartialMesh&) = delete;
  PartialMesh& operator=(const PartialMesh&) = delete;

  // `peer` is in the active view (again): connect to it unless connected; newer metadata replaces
  // the old for later attempts.
  void peer_up(MeshPeer peer) {
    if (stopping_) return;
    std::unique_ptr<Slot>& slot = slots_[peer.address];
    if (!slot) slot = std::make_unique<Slot>(executor_);
    slot->peer = std::move(peer);
    slot->up = true;
    if (!slot->keeper_running) {
      slot->keeper_running = true;
      tasks_.spawn(keep(*slot));
    }
  }

  // `address` left the active view: cancel its attempt or disconnect its connection.
  void peer_down(const Address& address) {
    auto it = slots_.find(address);
    if (it == slots_.end() || !it->second->up) return;
    it->second->up = false;
    wake(*it->second);
  }

  // Makes the set of up peers exactly `active` (after missing membership events, from a fresh
  // snapshot of the active view).
  void reset(const std::vector<MeshPeer>& active) {
    std::map<Address, const MeshPeer*> wanted;
    for (const MeshPeer& p : active) wanted[p.address] = &p;
    std::vector<Address> gone;
    for (const auto& [address, slot] : slots_) {
      if (slot->up && !wanted.contains(address)) gone.push_back(address);
    }
    for (const Address& a : gone) peer_down(a);
    for (const auto& [address, peer] : wanted) peer_up(*peer);
  }

  // Ends every task: attempts are cancelled, connections disconnected. Call once.
  asio::awaitable<void> stop() {
    stopping_ = true;
    for (auto& [address, slot] : slots_) wake(*slot);
    co_await tasks_.join();
    slots_.clear();
  }

  // The peers the application is connected to now, in address order.
  std::vector<Address> connected() const {
    std::vector<Address> out;
    for (const auto& [address, slot] : slots_) {
      if (slot->connection) out.push_back(address);
    }
    return out;
  }
  // The connection to `address`, or nullptr.
  Handle* find(const Address& address) {
    auto it = slots_.find(address);
    return it == slots_.end() || !it->second->connection ? nullptr : &*it->second->connection;
  }
  const MeshStats& stats() const { return stats_; }

 private:
  struct Slot {
    // The wakeup timer never expires by itself: wake() cancels its waits.
    explicit Slot(const asio::any_io_executor& executor)
        : wakeup(executor, Clock::now() + std::chrono::hours(24 * 365)) {}
    MeshPeer peer;
    bool up = false;
    bool keeper_running = false;
    std::uint64_t changes = 0;             // bumped by each down (and by stop)
    std::uint64_t changes_at_connect = 0;  // `changes` when `connection` was made
    std::optional<Handle> connection;
    Timer wakeup;
  };

  static void wake(Slot& slot) {
    ++slot.changes;
    slot.wakeup.cancel();
  }

  // Completes once `slot.changes` differs from `seen`. Cancelled by the caller's `||`, it throws.
  static asio::awaitable<void> changed(Slot& slot, std::uint64_t seen) {
    while (slot.changes == seen) {
      std::exception_ptr aborted;
      try {
        co_await slot.wakeup.async_wait(asio::use_awaitable);
      } catch (const asio::system_error&) {
        aborted = std::current_exception();  // by wake(), or by our caller giving up on us
      }
      if (aborted) {
        auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) std::rethrow_exception(aborted);
      }
    }
  }

  bool wanted(const Slot& slot) const { return slot.up && !stopping_; }

  // The one task per peer: connects while the peer is up, disconnects when it is not. Every
  // decision is taken after the last suspension, so no event between them goes unseen.
  asio::awaitable<void> keep(Slot& slot) {
    using namespace asio::experimental::awaitable_operators;
    Backoff backoff(options_.retry_min, options_.retry_max, seeds_.next_u64());
    for (;;) {
      if (slot.connection && (!wanted(slot) || slot.changes != slot.changes_at_connect)) {
        co_await disconnect(slot);
        continue;
      }
      if (!wanted(slot)) break;
      if (slot.connection) {
        co_await changed(slot, slot.changes);
        continue;
      }
      const std::uint64_t seen = slot.changes;
      const MeshPeer target = slot.peer;  // outlives the connect coroutine, which may hold a reference
      ++stats_.attempts;
      std::optional<detail::Outcome<Handle>> outcome;
      // Both branches have ended when this returns; a connect that ignored its cancellation may
      // still have produced a connection, which `outcome` keeps so that it is closed, not lost.
      co_await (attempt(target, outcome) || changed(slot, seen));
      const bool went_down = slot.changes != seen || !wanted(slot);
      if (went_down) {
        ++stats_.abandoned;
        if (outcome && outcome->value) co_await close_quietly(*outcome->value, target.address);
        continue;
      }
      if (!outcome->value) {
        ++stats_.failures;
        const Duration wait = backoff.next();
        log::warn("partial mesh: connect to {} failed ({}); retry {} in {} ms", target.address.to_string(),
                  describe_exception(outcome->error), backoff.failures(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
        co_await (sleep_for(wait) || changed(slot, seen));
        continue;
      }
      backoff.reset();
      ++stats_.connects;
      slot.connection.emplace(std::move(*outcome->value));
      slot.changes_at_connect = seen;
    }
    slot.keeper_running = false;
    if (!slot.up) {  // nothing left of this peer; `slot` is destroyed here
      const Address address = slot.peer.address;
      slots_.erase(address);
    }
  }

  asio::awaitable<void> attempt(const MeshPeer& target, std::optional<detail::Outcome<Handle>>& outcome) {
    outcome.emplace(co_await detail::capture(callbacks_.connect(target)));
  }

  asio::awaitable<void> disconnect(Slot& slot) {
    Handle connection = std::move(*slot.connection);
    slot.connection.reset();  // connected() no longer lists it, even while it closes
    co_await close_quietly(connection, slot.peer.address);
  }

  asio::awaitable<void> close_quietly(Handle& connection, const Address& address) {
    ++stats_.disconnects;
    try {
      co_await callbacks_.disconnect(connection);
    } catch (...) {
      log::warn("partial mesh: disconnect from {} failed: {}", address.to_string(),
                describe_exception(std::current_exception()));
    }
  }

  asio::any_io_executor executor_;
  Callbacks callbacks_;
  MeshOptions options_;
  Rng seeds_;  // one backoff seed per keeper
  std::map<Address, std::unique_ptr<Slot>> slots_;
  MeshStats stats_;
  bool stopping_ = false;
  TaskGroup tasks_;  // last: its children refer to the members above
};

}  // namespace hypar
