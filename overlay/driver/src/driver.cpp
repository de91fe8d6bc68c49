// SPDX-License-Identifier: Apache-2.0
#include "hypar/driver/driver.hpp"

#include <asio/error.hpp>
#include <asio/system_error.hpp>
#include <exception>
#include <random>

#include "hypar/log.hpp"
#include "hypar/runtime/exception_reason.hpp"

namespace hypar::driver {
namespace {

asio::awaitable<void> logging_failure(asio::awaitable<void> task, std::string owner, const char* what) {
  try {
    co_await std::move(task);
  } catch (const asio::system_error& e) {
    if (e.code() != asio::error::operation_aborted) log::error("{}: {} failed: {}", owner, what, e.what());
  } catch (const std::exception& e) {
    log::error("{}: {} failed: {}", owner, what, exception_reason(e));
  }
}

}  // namespace

std::uint64_t pick_seed(std::uint64_t configured) {
  if (configured != 0) return configured;
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

void spawn_logged(TaskGroup& group, asio::awaitable<void> task, std::string owner, const char* what) {
  group.spawn(logging_failure(std::move(task), std::move(owner), what));
}

}  // namespace hypar::driver
