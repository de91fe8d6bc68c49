// SPDX-License-Identifier: Apache-2.0
#include "hypar/runtime/runtime.hpp"

#include <asio/co_spawn.hpp>

#include "hypar/log.hpp"

namespace hypar {

std::string describe_exception(const std::exception_ptr& error) {
  if (!error) return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

std::size_t Runtime::default_shard_count() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

Runtime::Runtime(std::size_t shard_count) {
  assert(shard_count >= 1);
  shards_.reserve(shard_count);
  work_.reserve(shard_count);
  for (std::size_t i = 0; i < shard_count; ++i) {
    shards_.push_back(std::make_unique<Shard>(i));
    work_.push_back(asio::make_work_guard(shards_.back()->executor()));
  }
}

Runtime::~Runtime() {
  stop();
  for (const auto& shard : shards_) assert(!shard->thread_.joinable());
  // Destroy every pending handler (and so every suspended coroutine frame) while all the contexts
  // still exist: a frame parked on one shard may hold outstanding work on another shard.
  for (const auto& shard : shards_) shard->context_.shutdown_services();
}

void Runtime::stop() {
  if (stopped_.exchange(true, std::memory_order_acq_rel)) return;
  for (auto& guard : work_) guard.reset();
  for (const auto& shard : shards_) shard->context_.stop();
}

void Runtime::run_shard(Shard& shard) {
  try {
    shard.context_.run();
  } catch (...) {
    // Only a function given to post() (or a handler of a raw Asio operation) gets here; spawn()ed
    // tasks report through their completion handler.
    log::error("runtime: shard {}: a handler threw ({}); stopping the runtime", shard.index(),
               describe_exception(std::current_exception()));
    stop();
  }
}

void Runtime::run() {
  const bool ran_before = ran_.exchange(true);
  assert(!ran_before && "Runtime::run() may be called once");
  (void)ran_before;
  try {
    for (std::size_t i = 1; i < shards_.size(); ++i) {
      Shard& shard = *shards_[i];
      shard.thread_ = std::thread([this, &shard] { run_shard(shard); });
    }
  } catch (...) {  // std::thread failed to start: stop the ones already running, then report
    stop();
    for (const auto& shard : shards_)
      if (shard->thread_.joinable()) shard->thread_.join();
    throw;
  }
  run_shard(*shards_[0]);
  stop();  // shard 0 only returns after stop(); make sure the others follow
  for (std::size_t i = 1; i < shards_.size(); ++i) shards_[i]->thread_.join();
}

void Runtime::spawn(std::size_t shard_index, asio::awaitable<void> task) {
  asio::co_spawn(shard(shard_index).executor(), std::move(task),
                 [this, shard_index](const std::exception_ptr& error) {
                   if (!error) return;
                   log::error("runtime: a task on shard {} failed ({}); stopping the runtime",
                              shard_index, describe_exception(error));
                   stop();
                 });
}

}  // namespace hypar
