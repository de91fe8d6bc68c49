#pragma once
// Blocking work (SRV queries, contact files, state file writes) off the node's thread: a small
// process-wide worker pool; the awaiting coroutine resumes on its own executor with the result.
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>

namespace hypar::blocking {

inline asio::thread_pool& worker_pool() {
  static asio::thread_pool pool(2);
  return pool;
}

// Runs `f` (copied to the worker) on the pool. While it runs the caller's executor has work, so an
// io_context does not run out of work under it; a cancelled caller still waits for `f` to end.
template <class F>
auto run(F f) -> asio::awaitable<decltype(f())> {
  using R = decltype(f());
  // (The lambda is a named local: GCC 12 mishandles temporaries inside co_await expressions.)
  auto task = [f = std::move(f)]() -> asio::awaitable<R> { co_return f(); };
  co_return co_await asio::co_spawn(worker_pool(), std::move(task), asio::use_awaitable);
}

}  // namespace hypar::blocking
