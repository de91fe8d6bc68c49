// SPDX-License-Identifier: Apache-2.0
#include "ring.hpp"

#include <asio/post.hpp>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <chrono>
#include <system_error>
#include <thread>

#include "hypar/log.hpp"

namespace hypar::transport::uring {
namespace {

constexpr auto kShutdownDrainLimit = std::chrono::seconds(2);  // waiting for the last CQEs
constexpr unsigned kReapBatch = 64;
constexpr int kReapRoundsPerPass = 32;  // then the loop runs other handlers before reaping more

[[noreturn]] void fail(int error, const char* what) {
  throw std::system_error(error, std::system_category(), what);
}

// Owns the ring of every uring object on one io_context; shuts it down with the context.
class RingService final : public asio::io_context::service {
 public:
  static asio::io_context::id id;

  // The Ring (and its stream_descriptor) is built here, inside the service's construction, so
  // that Asio's descriptor service and reactor are registered before this one: this service is
  // then shut down and destroyed first, while the descriptor it holds can still be closed.
  explicit RingService(asio::io_context& io) : asio::io_context::service(io), ring_(std::make_shared<Ring>(io)) {}

  const std::shared_ptr<Ring>& ring() const { return ring_; }

 private:
  void shutdown() override { ring_->shutdown(); }

  std::shared_ptr<Ring> ring_;
};

asio::io_context::id RingService::id;

}  // namespace

Ring::Ring(asio::io_context& io) : executor_(io.get_executor()) { wakeup_.emplace(io); }

Ring::~Ring() {
  // The service shut the ring down before the io_context let go of it.
  assert(closing_ || !started_);
}

std::shared_ptr<Ring> Ring::of(asio::io_context& io, const UringOptions& options) {
  auto ring = asio::use_service<RingService>(io).ring();
  if (!ring->started_) ring->options_ = options;
  return ring;
}

void Ring::start() {
  if (started_) return;
  if (closing_) fail(ECANCELED, "io_uring: the io_context is shutting down");
  const unsigned count = options_.buffer_count;
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0 || options_.buffer_size == 0 ||
      options_.buffer_size > (1u << 30) || options_.per_connection_buffers == 0) {
    fail(EINVAL, "io_uring: bad UringOptions (buffer_count must be a power of two up to 32768)");
  }

  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE |
                 IORING_SETUP_SUBMIT_ALL;
  params.cq_entries = options_.cq_entries;
  if (const int r = io_uring_queue_init_params(options_.sq_entries, &ring_, &params); r < 0) {
    fail(-r, "io_uring_queue_init_params (SINGLE_ISSUER|DEFER_TASKRUN, kernel 6.1 or later)");
  }

  // The provided-buffer ring: liburing 2.3 has no io_uring_setup_buf_ring, so map and register it.
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  buffer_ring_bytes_ = (count * sizeof(io_uring_buf) + page - 1) / page * page;
  void* mapped = mmap(nullptr, buffer_ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mapped == MAP_FAILED) {
    const int error = errno;
    release_kernel_state();
    fail(error, "io_uring: mmap of the provided-buffer ring");
  }
  buffer_ring_ = static_cast<io_uring_buf_ring*>(mapped);
  io_uring_buf_reg registration{};
  registration.ring_addr = reinterpret_cast<std::uintptr_t>(mapped);
  registration.ring_entries = count;
  registration.bgid = kBufferGroup;
  if (const int r = io_uring_register_buf_ring(&ring_, &registration, 0); r < 0) {
    release_kernel_state();
    fail(-r, "io_uring_register_buf_ring (kernel 5.19 or later)");
  }
  buffers_.reset(new std::uint8_t[count * options_.buffer_size]);
  io_uring_buf_ring_init(buffer_ring_);
  const int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i) {
    io_uring_buf_ring_add(buffer_ring_, buffers_.get() + i * options_.buffer_size,
                          static_cast<unsigned>(options_.buffer_size), static_cast<unsigned short>(i), mask,
                          static_cast<int>(i));
  }
  io_uring_buf_ring_advance(buffer_ring_, static_cast<int>(count));

  // The eventfd the kernel signals when completions are waiting for io_uring_get_events.
  const int event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd < 0) {
    const int error = errno;
    release_kernel_state();
    fail(error, "io_uring: eventfd");
  }
  if (const int r = io_uring_register_eventfd(&ring_, event_fd); r < 0) {
    ::close(event_fd);
    release_kernel_state();
    fail(-r, "io_uring_register_eventfd");
  }
  asio::error_code ec;
  wakeup_->assign(event_fd, ec);
  if (ec) {
    ::close(event_fd);
    release_kernel_state();
    throw std::system_error(ec, "io_uring: watching the eventfd");
  }
  owner_ = std::this_thread::get_id();
  started_ = true;
  arm_wakeup();
}

void Ring::release_kernel_state() {
  if (ring_.ring_fd > 0) io_uring_queue_exit(&ring_);
  ring_ = io_uring{};
  if (buffer_ring_ != nullptr) munmap(buffer_ring_, buffer_ring_bytes_);
  buffer_ring_ = nullptr;
}

io_uring_sqe* Ring::next_sqe() {
  assert(started_ && !closing_);
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    io_uring_submit(&ring_);  // the SQ is full: hand what is queued to the kernel now
    sqe = io_uring_get_sqe(&ring_);
  }
  if (sqe == nullptr) fail(EBUSY, "io_uring: submission queue full");
  return sqe;
}

void Ring::request_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(executor_, [self = shared_from_this()] { self->flush(); });
}

void Ring::flush() {
  flush_posted_ = false;
  if (closing_ || !started_) return;
  // One syscall: submit this pass's SQEs and run the completions deferred to us (DEFER_TASKRUN).
  const int r = io_uring_submit_and_get_events(&ring_);
  if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
    log::error("io_uring: submit failed: {}", std::system_category().message(-r));
  } else if (r < 0 || io_uring_sq_ready(&ring_) > 0) {
    request_flush();  // transient: try again on the next pass
  }
  reap();
}

void Ring::reap() {
  struct Entry {
    std::uint64_t data;
    std::int32_t result;
    std::uint32_t flags;
  };
  for (int round = 0; round < kReapRoundsPerPass; ++round) {
    io_uring_cqe* cqes[kReapBatch];
    const unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, kReapBatch);
    if (n == 0) return;
    // Copy and release the CQEs before running anything: completions resume coroutines inline,
    // which may queue, submit or close.
    Entry batch[kReapBatch];
    for (unsigned i = 0; i < n; ++i) batch[i] = {cqes[i]->user_data, cqes[i]->res, cqes[i]->flags};
    io_uring_cq_advance(&ring_, n);
    for (unsigned i = 0; i < n; ++i) {
      if ((batch[i].flags & IORING_CQE_F_BUFFER) != 0) ++buffers_out_;
      if (batch[i].data == 0) continue;  // a cancel request's own CQE
      if ((batch[i].flags & IORING_CQE_F_MORE) == 0) {
        assert(in_flight_ > 0);
        --in_flight_;
      }
      reinterpret_cast<Completion*>(static_cast<std::uintptr_t>(batch[i].data))->on_cqe(batch[i].result, batch[i].flags);
    }
  }
  if (!closing_) request_flush();  // more are waiting: reap them on a later pass
}

void Ring::cancel(Completion* completion) {
  if (!started_ || closing_) return;
  queue(nullptr, [&](io_uring_sqe* sqe) { io_uring_prep_cancel64(sqe, reinterpret_cast<std::uintptr_t>(completion), 0); });
}

void Ring::cancel_fd_now(int fd) {
  if (!started_ || closing_) return;
  queue(nullptr, [&](io_uring_sqe* sqe) { io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL); });
  io_uring_submit(&ring_);  // the cancel must look the descriptor up before it is closed
}

void Ring::submit_now() {
  if (!started_ || closing_) return;
  io_uring_submit(&ring_);
}

void Ring::recycle(std::uint16_t id) {
  if (!started_ || closing_) return;
  assert(buffers_out_ > 0);
  --buffers_out_;
  io_uring_buf_ring_add(buffer_ring_, buffers_.get() + static_cast<std::size_t>(id) * options_.buffer_size,
                        static_cast<unsigned>(options_.buffer_size), id,
                        io_uring_buf_ring_mask(options_.buffer_count), 0);
  io_uring_buf_ring_advance(buffer_ring_, 1);
  if (!starved_.empty() && !rearm_posted_) {
    rearm_posted_ = true;
    asio::post(executor_, [self = shared_from_this()] { self->rearm_starved(); });
  }
}

void Ring::wait_for_buffers(std::weak_ptr<BufferWaiter> waiter) {
  if (closing_) return;
  starved_.push_back(std::move(waiter));
  // Buffers may have come back between the kernel's ENOBUFS and this CQE being reaped.
  if (buffers_out_ < options_.buffer_count && !rearm_posted_) {
    rearm_posted_ = true;
    asio::post(executor_, [self = shared_from_this()] { self->rearm_starved(); });
  }
}

void Ring::rearm_starved() {
  rearm_posted_ = false;
  if (closing_) return;
  auto starved = std::move(starved_);
  starved_.clear();
  for (auto& weak : starved) {
    if (auto waiter = weak.lock()) waiter->buffers_available();
  }
}

void Ring::add_waiter(Waiter& waiter) {
  assert(!waiter.linked_);
  waiter.prev_ = nullptr;
  waiter.next_ = waiters_;
  if (waiters_ != nullptr) waiters_->prev_ = &waiter;
  waiters_ = &waiter;
  waiter.linked_ = true;
  ++waiter_count_;
  arm_wakeup();
}

void Ring::remove_waiter(Waiter& waiter) {
  if (!waiter.linked_) return;
  if (waiter.prev_ != nullptr) {
    waiter.prev_->next_ = waiter.next_;
  } else {
    waiters_ = waiter.next_;
  }
  if (waiter.next_ != nullptr) waiter.next_->prev_ = waiter.prev_;
  waiter.prev_ = waiter.next_ = nullptr;
  waiter.linked_ = false;
  --waiter_count_;
  if (waiter_count_ == 0 && wakeup_armed_ && !disarm_posted_ && !closing_) {
    // Stop listening at the end of the pass if nobody waits by then, so run() can return; a
    // ping-pong that waits again in the same pass keeps the read armed.
    disarm_posted_ = true;
    asio::post(executor_, [self = shared_from_this()] {
      self->disarm_posted_ = false;
      if (self->waiter_count_ == 0 && self->wakeup_armed_ && self->wakeup_) self->wakeup_->cancel();
    });
  }
}

void Ring::arm_wakeup() {
  if (wakeup_armed_ || waiter_count_ == 0 || !started_ || closing_) return;
  wakeup_armed_ = true;
  // A read, not a wait: Asio tries reads speculatively, so a signal that came while nothing was
  // armed is not lost (an edge-triggered wait would miss it).
  wakeup_->async_read_some(asio::buffer(&wakeup_count_, sizeof wakeup_count_),
                           [self = shared_from_this()](const asio::error_code& error, std::size_t) {
                             self->on_wakeup(error);
                           });
}

void Ring::on_wakeup(const asio::error_code& error) {
  wakeup_armed_ = false;
  if (closing_) return;
  if (!error) {
    io_uring_get_events(&ring_);
    reap();
  } else if (error != asio::error::operation_aborted) {
    log::error("io_uring: reading the eventfd failed: {}", error.message());
    return;
  }
  arm_wakeup();
}

void Ring::shutdown() {
  if (closing_) return;
  closing_ = true;
  // Destroy (without running) every handler still waiting; this may destroy connections.
  while (waiters_ != nullptr) {
    Waiter* waiter = waiters_;
    remove_waiter(*waiter);
    waiter->abandon();
  }
  starved_.clear();
  if (started_ && std::this_thread::get_id() != owner_) {
    // SINGLE_ISSUER: only the loop's thread may submit or reap. Closing the ring cancels what
    // the kernel still runs, but their CQEs are lost: leave their memory allocated.
    if (in_flight_ > 0) {
      log::debug("io_uring: shut down off its thread with {} operations running; their memory is left allocated",
                 in_flight_);
      (void)buffers_.release();
    }
    release_kernel_state();
  } else if (started_) {
    if (in_flight_ > 0) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      if (sqe == nullptr) {
        io_uring_submit(&ring_);
        sqe = io_uring_get_sqe(&ring_);
      }
      if (sqe != nullptr) {
        io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
        io_uring_sqe_set_data(sqe, nullptr);
      }
    }
    io_uring_submit(&ring_);
    const auto deadline = std::chrono::steady_clock::now() + kShutdownDrainLimit;
    while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
      __kernel_timespec timeout{0, 20'000'000};
      io_uring_cqe* cqe = nullptr;
      io_uring_wait_cqe_timeout(&ring_, &cqe, &timeout);
      reap();
    }
    if (in_flight_ > 0) {
      // Never free memory the kernel may still write to: leak it instead.
      log::warn("io_uring: {} operations still running at shutdown; their buffers are left allocated", in_flight_);
      (void)buffers_.release();
      buffer_ring_ = nullptr;
    }
    release_kernel_state();
  }
  wakeup_.reset();  // closes the eventfd
}

}  // namespace hypar::transport::uring
