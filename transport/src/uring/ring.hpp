// SPDX-License-Identifier: Apache-2.0
#pragma once
// One io_uring per asio::io_context (an Asio service), and how Asio drives it:
// - SQEs are queued by operations and submitted together by one handler posted when the first
//   SQE of a loop pass is queued (submit_and_get_events, then the CQEs are reaped);
// - while a caller waits on a uring operation, an async read of the eventfd registered with the
//   ring wakes the loop; each wake-up runs io_uring_get_events (DEFER_TASKRUN completions appear
//   only then) and reaps. With no caller waiting nothing keeps the io_context busy, so run()
//   returns when the program's own work is done, as with Asio's sockets;
// - a provided-buffer ring (group 0) shared by the multishot receives of every connection.
//
// Lifetime: objects holding a std::shared_ptr<Ring> may outlive the io_context; once the context
// shuts down (Ring::shutdown) every operation fails or is a no-op. Shutdown abandons pending
// handlers (destroyed, not run, as Asio does), cancels what the kernel still runs and waits a
// bounded time for the last CQEs before the ring and its buffers are released. Destroy the
// io_context on the thread that ran it: from another thread (SINGLE_ISSUER) the ring can only be
// closed, and the memory of operations still in the kernel is then left allocated.
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "hypar/transport/uring.hpp"

namespace hypar::transport::uring {

// What a CQE is delivered to: its user_data is the Completion's address (0: ignored).
class Completion {
 public:
  // `flags` carries IORING_CQE_F_MORE while a multishot operation goes on.
  virtual void on_cqe(std::int32_t result, std::uint32_t flags) = 0;

 protected:
  ~Completion() = default;
};

// A caller waiting on a uring operation. While any is registered the loop listens to the
// eventfd; at shutdown each one is abandoned (its handler destroyed without running).
class Waiter {
 public:
  virtual void abandon() = 0;

 protected:
  ~Waiter() = default;

 private:
  friend class Ring;
  Waiter* prev_ = nullptr;
  Waiter* next_ = nullptr;
  bool linked_ = false;
};

// A connection whose multishot receive ended for lack of buffers; re-armed when some come back.
class BufferWaiter {
 public:
  virtual void buffers_available() = 0;

 protected:
  ~BufferWaiter() = default;
};

class Ring : public std::enable_shared_from_this<Ring> {
 public:
  using Executor = asio::io_context::executor_type;

  explicit Ring(asio::io_context& io);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // The context's ring; `options` apply if the ring is not set up yet.
  static std::shared_ptr<Ring> of(asio::io_context& io, const UringOptions& options);

  // Sets the ring up if not done yet. Call on the loop's thread. Throws std::system_error.
  void start();
  bool started() const { return started_; }
  // The context is shutting down or has: no new operations.
  bool closing() const { return closing_; }
  Executor executor() const { return executor_; }
  const UringOptions& options() const { return options_; }

  // Queues one SQE prepared by `prepare(sqe)` whose CQEs go to `completion` (nullptr: ignored).
  // Submitted at the end of the loop pass. Precondition: started() and !closing().
  template <class Prepare>
  void queue(Completion* completion, Prepare&& prepare) {
    io_uring_sqe* sqe = next_sqe();
    prepare(sqe);
    io_uring_sqe_set_data(sqe, completion);
    if (completion != nullptr) ++in_flight_;
    request_flush();
  }
  // Asks the kernel to cancel the operation delivering to `completion` (its CQE still comes).
  void cancel(Completion* completion);
  // Cancels every operation on `fd` and submits at once, so that the caller may close `fd` next.
  // The kernel finds them by scanning every request in the ring: for a rare close (a listener);
  // a connection cancels its own operations with cancel(), a hash lookup.
  void cancel_fd_now(int fd);
  // Submits what is queued now, e.g. SQEs naming a file descriptor the caller closes next (its
  // number may be reused at once).
  void submit_now();

  // Provided buffers (group kBufferGroup): received bytes, and their return to the kernel.
  static constexpr std::uint16_t kBufferGroup = 0;
  std::span<const std::uint8_t> buffer(std::uint16_t id, std::size_t length) const {
    return {buffers_.get() + static_cast<std::size_t>(id) * options_.buffer_size, length};
  }
  void recycle(std::uint16_t id);
  void wait_for_buffers(std::weak_ptr<BufferWaiter> waiter);

  void add_waiter(Waiter& waiter);
  void remove_waiter(Waiter& waiter);

  // Called by the service when the io_context shuts down. Idempotent.
  void shutdown();

 private:
  io_uring_sqe* next_sqe();
  void request_flush();
  void flush();
  void reap();
  void arm_wakeup();
  void on_wakeup(const asio::error_code& error);
  void rearm_starved();
  void release_kernel_state();

  Executor executor_;
  UringOptions options_;
  io_uring ring_{};
  std::thread::id owner_;  // the thread that set the ring up: the only one that may submit
  bool started_ = false;
  bool closing_ = false;
  bool flush_posted_ = false;
  std::size_t in_flight_ = 0;  // SQEs with a Completion whose last CQE has not come yet

  // Waking the loop.
  std::optional<asio::posix::stream_descriptor> wakeup_;
  std::uint64_t wakeup_count_ = 0;
  bool wakeup_armed_ = false;
  bool disarm_posted_ = false;
  Waiter* waiters_ = nullptr;
  std::size_t waiter_count_ = 0;

  // Provided buffers.
  io_uring_buf_ring* buffer_ring_ = nullptr;
  std::size_t buffer_ring_bytes_ = 0;
  std::unique_ptr<std::uint8_t[]> buffers_;
  std::size_t buffers_out_ = 0;  // taken by the kernel for a CQE and not recycled yet
  std::vector<std::weak_ptr<BufferWaiter>> starved_;
  bool rearm_posted_ = false;
};

}  // namespace hypar::transport::uring
