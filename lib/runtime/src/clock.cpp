// SPDX-License-Identifier: Apache-2.0
#include "hypar/runtime/clock.hpp"

#include <asio/execution/context.hpp>
#include <asio/execution_context.hpp>
#include <asio/query.hpp>
#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "hypar/runtime/clock_timer.hpp"

namespace hypar {
namespace {

// Virtual time since the steady clock's epoch; kReal while no VirtualClock exists.
constexpr Clock::rep kReal = -1;
std::atomic<Clock::rep> virtual_ticks{kReal};

using WaitPtr = std::unique_ptr<detail::VirtualWait>;

// Pending virtual waits, in (expiry, order of waiting) order.
struct WaitKey {
  Instant at;
  std::uint64_t id;
  friend bool operator<(const WaitKey& a, const WaitKey& b) { return a.at != b.at ? a.at < b.at : a.id < b.id; }
};
struct PendingWait {
  const void* owner;
  const asio::execution_context* context;
  WaitPtr wait;
};
struct Registry {
  std::mutex mutex;
  std::map<WaitKey, PendingWait> waits;
  std::map<std::uint64_t, Instant> expiry_of;  // id -> its key's expiry, to find a wait by id
  std::uint64_t next_id = 1;

  // Removes the matching waits (caller holds the mutex) and returns them; they are completed or
  // destroyed outside the lock, as both may run code that waits or cancels again.
  template <class Match>
  std::vector<WaitPtr> take(Match match) {
    std::vector<WaitPtr> taken;
    for (auto it = waits.begin(); it != waits.end();) {
      if (match(it->first, it->second)) {
        taken.push_back(std::move(it->second.wait));
        expiry_of.erase(it->first.id);
        it = waits.erase(it);
      } else {
        ++it;
      }
    }
    return taken;
  }
};
Registry& registry() {
  static Registry r;
  return r;
}

void complete_all(std::vector<WaitPtr>& waits, asio::error_code error) {
  for (auto& w : waits) w->complete(error);
}

// Lives in every execution context that has had a virtual wait: when the context shuts down,
// its pending waits are destroyed without completing, as Asio does with its own operations.
class VirtualWaitService final : public asio::execution_context::service {
 public:
  using key_type = VirtualWaitService;
  static inline asio::execution_context::id id;
  explicit VirtualWaitService(asio::execution_context& context) : service(context) {}

 private:
  void shutdown() override {
    const asio::execution_context* mine = &context();
    auto& r = registry();
    std::vector<WaitPtr> taken;
    {
      std::lock_guard lock(r.mutex);
      taken = r.take([mine](const WaitKey&, const PendingWait& p) { return p.context == mine; });
    }
    taken.clear();
  }
};

}  // namespace

namespace detail {

std::uint64_t add_virtual_wait(Instant at, const void* owner, const asio::any_io_executor& executor,
                               std::unique_ptr<VirtualWait> wait) {
  asio::execution_context& context = asio::query(executor, asio::execution::context);
  asio::use_service<VirtualWaitService>(context);
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  const std::uint64_t id = r.next_id++;
  r.waits.emplace(WaitKey{at, id}, PendingWait{owner, &context, std::move(wait)});
  r.expiry_of.emplace(id, at);
  return id;
}

std::size_t cancel_virtual_waits(const void* owner) {
  auto& r = registry();
  std::vector<WaitPtr> taken;
  {
    std::lock_guard lock(r.mutex);
    if (r.waits.empty()) return 0;
    taken = r.take([owner](const WaitKey&, const PendingWait& p) { return p.owner == owner; });
  }
  complete_all(taken, asio::error::operation_aborted);
  return taken.size();
}

void cancel_virtual_wait(std::uint64_t id) {
  auto& r = registry();
  WaitPtr taken;
  {
    std::lock_guard lock(r.mutex);
    auto at = r.expiry_of.find(id);
    if (at == r.expiry_of.end()) return;
    auto it = r.waits.find(WaitKey{at->second, id});
    taken = std::move(it->second.wait);
    r.waits.erase(it);
    r.expiry_of.erase(at);
  }
  taken->complete(asio::error::operation_aborted);
}

}  // namespace detail

Clock::time_point Clock::now() noexcept {
  const rep ticks = virtual_ticks.load(std::memory_order_acquire);
  if (ticks == kReal) return std::chrono::steady_clock::now();
  return time_point(duration(ticks));
}

bool Clock::is_virtual() noexcept { return virtual_ticks.load(std::memory_order_acquire) != kReal; }

VirtualClock::VirtualClock(Instant start) {
  Clock::rep expected = kReal;
  if (start.time_since_epoch().count() < 0 ||
      !virtual_ticks.compare_exchange_strong(expected, start.time_since_epoch().count())) {
    throw std::logic_error("VirtualClock: virtual time is already installed (or start is negative)");
  }
}

VirtualClock::~VirtualClock() {
  auto& r = registry();
  std::vector<WaitPtr> taken;
  {
    std::lock_guard lock(r.mutex);
    taken = r.take([](const WaitKey&, const PendingWait&) { return true; });
  }
  complete_all(taken, asio::error::operation_aborted);
  virtual_ticks.store(kReal, std::memory_order_release);
}

void VirtualClock::advance(Duration d) {
  if (d.count() > 0) virtual_ticks.fetch_add(d.count(), std::memory_order_acq_rel);
}

bool VirtualClock::run_until(asio::io_context& io, const std::function<bool()>& done, Duration timeout) {
  auto& r = registry();
  const Instant deadline = now() + timeout;
  for (;;) {
    // Everything ready at this instant (handlers may make more ready).
    io.restart();
    while (io.poll() > 0) {
      if (done()) return true;
      io.restart();
    }
    if (done()) return true;
    // Nothing ready: complete the waits due now, else jump to the next expiry or the deadline.
    std::vector<WaitPtr> due;
    {
      std::lock_guard lock(r.mutex);
      const Instant t = now();
      while (!r.waits.empty() && r.waits.begin()->first.at <= t) {
        auto first = r.waits.begin();
        due.push_back(std::move(first->second.wait));
        r.expiry_of.erase(first->first.id);
        r.waits.erase(first);
      }
      if (due.empty()) {
        if (t >= deadline) return false;
        const Instant next = r.waits.empty() ? deadline : std::min(deadline, r.waits.begin()->first.at);
        virtual_ticks.store(next.time_since_epoch().count(), std::memory_order_release);
        continue;
      }
    }
    complete_all(due, {});
  }
}

std::size_t VirtualClock::pending_waits() const {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  return r.waits.size();
}

void VirtualClock::run_for(asio::io_context& io, Duration duration) {
  run_until(io, [] { return false; }, duration);
}

}  // namespace hypar
