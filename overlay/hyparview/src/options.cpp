// SPDX-License-Identifier: Apache-2.0
#include "hypar/hyparview/options.hpp"

#include <fmt/core.h>

#include "hypar/hyparview/messages.hpp"

namespace hypar::hyparview {
namespace {

double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

template <class... Args>
void add(std::vector<std::string>& problems, fmt::format_string<Args...> text, Args&&... args) {
  problems.push_back(fmt::format(text, std::forward<Args>(args)...));
}

}  // namespace

std::vector<std::string> Options::validate() const {
  std::vector<std::string> problems;

  if (active_size < 1) add(problems, "active_size must be at least 1 (got {})", active_size);
  if (active_size > 1024) add(problems, "active_size must be at most 1024 (got {})", active_size);
  if (passive_size < 1) add(problems, "passive_size must be at least 1 (got {})", passive_size);
  if (passive_size > 4096) add(problems, "passive_size must be at most 4096 (got {})", passive_size);
  if (arwl < 1) add(problems, "arwl must be at least 1 (got {})", arwl);
  if (prwl > arwl) add(problems, "prwl ({}) must not exceed arwl ({})", prwl, arwl);
  if (1 + k_active + k_passive > kMaxShufflePeers) {
    add(problems, "1 + k_active + k_passive must be at most {} (got {})", kMaxShufflePeers, 1 + k_active + k_passive);
  }
  if (shuffle_period <= Duration::zero()) {
    add(problems, "shuffle_period must be positive (got {}s)", to_seconds(shuffle_period));
  }
  if (timer_jitter < 0.0 || timer_jitter >= 1.0) {
    add(problems, "timer_jitter must be in [0, 1) (got {})", timer_jitter);
  }
  if (keepalive_interval < Duration::zero()) {
    add(problems, "keepalive_interval must be positive, or 0 to disable (got {}s)", to_seconds(keepalive_interval));
  }
  if (keepalive_interval > Duration::zero() && keepalive_timeout <= keepalive_interval) {
    add(problems, "keepalive_timeout ({}s) must exceed keepalive_interval ({}s)", to_seconds(keepalive_timeout),
            to_seconds(keepalive_interval));
  }
  if (neighbor_timeout <= Duration::zero()) {
    add(problems, "neighbor_timeout must be positive (got {}s)", to_seconds(neighbor_timeout));
  }
  if (reject_backoff < Duration::zero()) add(problems, "reject_backoff must not be negative");
  if (lost_quarantine < Duration::zero()) add(problems, "lost_quarantine must not be negative");
  if (join_retry_min <= Duration::zero()) {
    add(problems, "join_retry_min must be positive (got {}s)", to_seconds(join_retry_min));
  }
  if (join_retry_max < join_retry_min) {
    add(problems, "join_retry_max ({}s) must be at least join_retry_min ({}s)", to_seconds(join_retry_max),
            to_seconds(join_retry_min));
  }
  if (idle_link_timeout <= Duration::zero()) {
    add(problems, "idle_link_timeout must be positive (got {}s)", to_seconds(idle_link_timeout));
  }
  if (heal_memory > 4096) add(problems, "heal_memory must be at most 4096 (got {})", heal_memory);
  if (heal_memory > 0) {
    if (heal_retry_min <= Duration::zero()) {
      add(problems, "heal_retry_min must be positive (got {}s)", to_seconds(heal_retry_min));
    }
    if (heal_retry_max < heal_retry_min) {
      add(problems, "heal_retry_max ({}s) must be at least heal_retry_min ({}s)", to_seconds(heal_retry_max),
              to_seconds(heal_retry_min));
    }
    if (heal_forget_after < heal_retry_min) {
      add(problems, "heal_forget_after ({}s) must be at least heal_retry_min ({}s)", to_seconds(heal_forget_after),
              to_seconds(heal_retry_min));
    }
  }
  if (join_swap_period < Duration::zero()) add(problems, "join_swap_period must not be negative");
  if (join_swaps > kMaxJoinSwaps) add(problems, "join_swaps must be at most {} (got {})", kMaxJoinSwaps, join_swaps);
  if (probe_period < Duration::zero()) {
    add(problems, "probe_period must be positive, or 0 to disable (got {}s)", to_seconds(probe_period));
  }
  return problems;
}

}  // namespace hypar::hyparview
