// SPDX-License-Identifier: Apache-2.0
#pragma once
// Runs one event-hook command: `/bin/sh -c COMMAND` with extra environment variables, stdin from
// /dev/null and stdout sent to stderr (the node apps' stdout carries JSON lines), in a process
// group of its own so that a timeout kills the command and everything it started.
#include <string>
#include <vector>

#include "hypar/time.hpp"

namespace hypar::app {

struct HookOutcome {
  enum class Kind { exited, signalled, timed_out, not_started };
  Kind kind = Kind::not_started;
  int code = 0;  // exit status, signal number, or errno for not_started

  bool ok() const { return kind == Kind::exited && code == 0; }
};

// "exited with status 1", "killed by signal 9", "timed out after 10000 ms (killed)", ...
std::string describe(const HookOutcome& outcome, Duration timeout);

// `extra_env` holds "NAME=VALUE" entries; they replace variables of the same name in this
// process's environment. Blocks until the command ends or `timeout` passed (then its process
// group is sent SIGKILL and reaped).
HookOutcome run_hook(const std::string& command, const std::vector<std::string>& extra_env, Duration timeout);

}  // namespace hypar::app
