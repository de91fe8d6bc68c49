// SPDX-License-Identifier: Apache-2.0
#pragma once
// The glue every runtime that drives a sans-IO core shares (hypar::Node, hypar::Broadcaster):
// seeding the core's Rng and starting the runtime's tasks with their failures logged. The core's
// timers are in core_timers.hpp.
#include <asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "hypar/runtime/task_group.hpp"

namespace hypar::driver {

// The seed of a core's Rng: `configured` unless it is 0 (a reproducible run), else a random one.
std::uint64_t pick_seed(std::uint64_t configured);

// Starts `task` in `group`. An exception that ends it, other than the cancellation of a stopping
// owner, is logged as "<owner>: <what> failed: <reason>" and goes no further.
void spawn_logged(TaskGroup& group, asio::awaitable<void> task, std::string owner, const char* what);

}  // namespace hypar::driver
