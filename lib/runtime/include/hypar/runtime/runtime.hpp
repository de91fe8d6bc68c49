// SPDX-License-Identifier: Apache-2.0
#pragma once
// hypar::Runtime: N shards, each one asio::io_context served by one thread. Nodes and their
// connections live on one shard; shards talk by posting to each other.
//
//   hypar::Runtime runtime;                     // one shard per core (at least 1)
//   runtime.spawn(0, serve(runtime.shard(0)));  // a coroutine on shard 0
//   runtime.post(1, [] { /* runs on shard 1's thread */ });
//   runtime.run();                              // blocks until some task calls runtime.stop()
//
// Call order: construct; spawn()/post() (from any thread, before or during run()); run() once;
// stop() from anywhere (a task, a signal-handling thread, a watchdog); destroy after run() returned.
//
// Errors: an exception escaping a task started with spawn(), or thrown by a function given to
// post(), is a bug in that task: the runtime logs it with hypar::log::error and stops (run()
// returns), rather than swallowing it or killing the process. Tasks that expect failures (a peer
// resetting its connection) catch them themselves.
//
// Shutdown: stop() ends every shard's event loop promptly; handlers still queued are not run.
// Suspended coroutines are destroyed (not resumed) when the Runtime is destroyed, after every
// shard has been shut down, so a frame may hold work on another shard's context safely.
#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <atomic>
#include <cassert>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace hypar {

namespace detail {
// An io_context whose services can be shut down before it is destroyed (see Runtime::~Runtime).
class ShardContext final : public asio::io_context {
 public:
  ShardContext() : asio::io_context(1) {}  // concurrency hint: one thread runs it
  void shutdown_services() { shutdown(); }
};
}  // namespace detail

// "what()" of an exception, or a placeholder for exceptions not derived from std::exception.
std::string describe_exception(const std::exception_ptr& error);

// One event loop. Everything posted to a shard runs on its one thread, in order.
class Shard {
 public:
  using Executor = asio::io_context::executor_type;

  explicit Shard(std::size_t index) : index_(index) {}
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  std::size_t index() const { return index_; }
  asio::io_context& context() { return context_; }
  Executor executor() { return context_.get_executor(); }
  // True on the thread currently running this shard's event loop.
  bool running_in_this_thread() { return context_.get_executor().running_in_this_thread(); }

 private:
  friend class Runtime;
  std::size_t index_;
  detail::ShardContext context_;
  std::thread thread_;  // joinable only while run() runs; shard 0 uses run()'s caller instead
};

class Runtime {
 public:
  // std::thread::hardware_concurrency(), or 1 when unknown.
  static std::size_t default_shard_count();

  explicit Runtime(std::size_t shard_count = default_shard_count());  // shard_count >= 1
  // Stops (if not yet stopped) and destroys what is still queued. Never call while run() runs.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  std::size_t size() const { return shards_.size(); }
  Shard& shard(std::size_t index) {
    assert(index < shards_.size());
    return *shards_[index];
  }

  // Starts one thread per shard 1..N-1 and runs shard 0 on the calling thread; returns once stop()
  // was called and every shard thread has been joined. Call at most once.
  void run();
  // Thread-safe and idempotent; may be called before run(), in which case run() returns at once.
  void stop();
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

  // Starts `task` on shard `shard_index`. Thread-safe. An exception escaping the task is logged
  // and stops the runtime (see the top of this file).
  void spawn(std::size_t shard_index, asio::awaitable<void> task);

  // Runs `fn` on shard `shard_index`'s thread: how shards send each other messages. Thread-safe.
  template <class F>
  void post(std::size_t shard_index, F&& fn) {
    asio::post(shard(shard_index).context(), std::forward<F>(fn));
  }

 private:
  void run_shard(Shard& shard);

  std::vector<std::unique_ptr<Shard>> shards_;
  // Keep every shard's run() from returning when it runs out of work, until stop().
  std::vector<asio::executor_work_guard<Shard::Executor>> work_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> ran_{false};
};

}  // namespace hypar
