// SPDX-License-Identifier: Apache-2.0
#pragma once
// Blocking work (SRV queries, contact files, state file writes) off the node's thread: a small
// process-wide worker pool; the awaiting coroutine resumes on its own executor with the result.
//
// The io_context may be destroyed while a job runs (a test ends with a node mid-save). A Gate, an
// Asio service of that context, counts the jobs in flight; when the context shuts down, the Gate
// waits for them to post their completions first (Asio shuts its scheduler down after every other
// service, so those completions are then destroyed like any pending handler, never leaked nor run
// against a dead context). Jobs are short: a file write, an SRV query bounded by resolv.conf.
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/execution_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>

namespace hypar::blocking {

inline asio::thread_pool& worker_pool() {
  static asio::thread_pool pool(2);
  return pool;
}

class Gate : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  struct State {
    std::mutex mutex;
    std::condition_variable idle;
    std::size_t running = 0;  // jobs whose completion is not posted yet
  };
  explicit Gate(asio::execution_context& context) : service(context), state_(std::make_shared<State>()) {}
  std::shared_ptr<State> state() const { return state_; }

 private:
  void shutdown() override {
    std::unique_lock lock(state_->mutex);
    state_->idle.wait(lock, [this] { return state_->running == 0; });
  }
  std::shared_ptr<State> state_;
};

// Runs `f` (moved to the worker) on the pool; the caller resumes on its executor with f's result.
template <class F>
auto run(F f) -> asio::awaitable<decltype(f())> {
  using R = decltype(f());
  auto executor = co_await asio::this_coro::executor;
  auto gate = asio::use_service<Gate>(asio::query(executor, asio::execution::context)).state();
  auto initiate = [gate, executor, f = std::move(f)](auto handler) mutable {
    {
      std::lock_guard lock(gate->mutex);
      ++gate->running;
    }
    asio::post(worker_pool(), [gate, executor, f = std::move(f), handler = std::move(handler)]() mutable {
      R result = f();
      asio::post(executor, [handler = std::move(handler), result = std::move(result)]() mutable {
        std::move(handler)(std::move(result));
      });
      std::lock_guard lock(gate->mutex);
      --gate->running;
      gate->idle.notify_all();
    });
  };
  // (A named initiation, not a temporary: GCC 12 mishandles temporaries inside co_await expressions.)
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(std::move(initiate),
                                                                                  asio::use_awaitable);
}

}  // namespace hypar::blocking
