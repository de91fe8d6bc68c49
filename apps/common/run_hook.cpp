// SPDX-License-Identifier: Apache-2.0
#include "run_hook.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>

extern char** environ;

namespace hypar::app {
namespace {

std::string_view name_of(std::string_view assignment) { return assignment.substr(0, assignment.find('=')); }

// This process's environment without the variables `extra_env` sets, then `extra_env`.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra_env) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view name = name_of(*e);
    const bool replaced = std::any_of(extra_env.begin(), extra_env.end(),
                                      [&](const std::string& x) { return name_of(x) == name; });
    if (!replaced) out.emplace_back(*e);
  }
  out.insert(out.end(), extra_env.begin(), extra_env.end());
  return out;
}

HookOutcome from_status(int status) {
  if (WIFEXITED(status)) return {HookOutcome::Kind::exited, WEXITSTATUS(status)};
  return {HookOutcome::Kind::signalled, WIFSIGNALED(status) ? WTERMSIG(status) : 0};
}

}  // namespace

std::string describe(const HookOutcome& outcome, Duration timeout) {
  switch (outcome.kind) {
    case HookOutcome::Kind::exited: return fmt::format("exited with status {}", outcome.code);
    case HookOutcome::Kind::signalled: return fmt::format("killed by signal {}", outcome.code);
    case HookOutcome::Kind::timed_out:
      return fmt::format("timed out after {} ms (killed)",
                         std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    case HookOutcome::Kind::not_started: return fmt::format("could not be started: {}", std::strerror(outcome.code));
  }
  return "unknown outcome";
}

HookOutcome run_hook(const std::string& command, const std::vector<std::string>& extra_env, Duration timeout) {
  std::vector<std::string> env = merged_environment(extra_env);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string shell = "/bin/sh";
  std::string dash_c = "-c";
  std::string cmd = command;
  char* argv[] = {shell.data(), dash_c.data(), cmd.data(), nullptr};

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);  // its own group: a timeout kills what it started too
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, shell.c_str(), &actions, &attributes, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) return {HookOutcome::Kind::not_started, spawned};

  // Poll for its end: hooks are rare and short, and polling needs no signal handling of our own.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return from_status(status);
    if (done < 0 && errno != EINTR) return {HookOutcome::Kind::not_started, errno};
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {HookOutcome::Kind::timed_out, 0};
}

}  // namespace hypar::app
