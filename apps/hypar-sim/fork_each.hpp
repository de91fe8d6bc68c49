// SPDX-License-Identifier: Apache-2.0
#pragma once
// Runs work(i) for every i in [0, count), each in a child process forked from this one, at most
// `jobs` at once: every child starts from this process's state as it is at the fork (the kernel
// copies pages only when written) and nothing a child does reaches the parent but the bytes its
// work returns. hypar-sim failures builds an overlay once and crashes a copy of it per level.
#include <cstddef>
#include <functional>
#include <string>

namespace hypar::sim_app {

// done(i, bytes) runs in the parent, in order of i, as soon as child i and every child before it
// have finished. Returns "" when every child succeeded; otherwise one sentence about the first
// failure (a child that threw, exited non-zero or was killed by a signal, or a fork that failed),
// after waiting for the children already running; no child is started after a failure.
std::string fork_each(std::size_t count, unsigned jobs, const std::function<std::string(std::size_t)>& work,
                      const std::function<void(std::size_t, const std::string&)>& done);

}  // namespace hypar::sim_app
