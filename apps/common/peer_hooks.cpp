// SPDX-License-Identifier: Apache-2.0
#include "peer_hooks.hpp"

#include <chrono>
#include <utility>

#include "hypar/log.hpp"
#include "run_hook.hpp"

namespace hypar::app {

std::string metadata_variable(std::string_view key) {
  std::string name = "HYPAR_PEER_META_";
  for (char c : key) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    name.push_back(keep ? c : '_');
  }
  return name;
}

std::vector<std::string> hook_environment(const PeerChange& change) {
  std::vector<std::string> env{
      std::string("HYPAR_EVENT=") + (change.up ? "peer_up" : "peer_down"),
      "HYPAR_PEER=" + change.peer.to_string(),
      "HYPAR_PEER_NAME=" + change.name,
  };
  if (!change.up) env.push_back("HYPAR_PEER_REASON=" + change.reason);
  for (const auto& [key, value] : change.metadata) env.push_back(metadata_variable(key) + "=" + value);
  return env;
}

PeerHooks::PeerHooks(HookCommands commands) : commands_(std::move(commands)), worker_([this] { work(); }) {}

PeerHooks::~PeerHooks() {
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    dropped = waiting_.size();
  }
  changed_.notify_all();
  worker_.join();
  if (dropped > 0) log::info("hooks: {} waiting peer change(s) not run: stopping", dropped);
}

void PeerHooks::post(PeerChange change) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    auto it = waiting_.find(change.peer);
    if (it != waiting_.end()) {  // a change not yet run: the newer one replaces it, at the back
      ++stats_.collapsed;
      order_.erase(it->second.position);
      it->second.change = std::move(change);
      it->second.position = order_.insert(order_.end(), it->first);
    } else {
      const Address peer = change.peer;
      auto position = order_.insert(order_.end(), peer);
      waiting_.emplace(peer, Waiting{std::move(change), position});
    }
  }
  changed_.notify_all();
}

void PeerHooks::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !order_.empty(); });
    if (stopping_) return;
    const Address peer = order_.front();
    order_.pop_front();
    auto node = waiting_.extract(peer);
    PeerChange change = std::move(node.mapped().change);
    const bool was_up = reported_up_.contains(peer);
    if (change.up == was_up) {  // no change since the last hook for this peer
      ++stats_.collapsed;
      if (order_.empty()) changed_.notify_all();
      continue;
    }
    if (change.up) {
      reported_up_.insert(peer);
    } else {
      reported_up_.erase(peer);
    }
    running_ = true;
    lock.unlock();
    run(change);
    lock.lock();
    running_ = false;
    changed_.notify_all();  // wait_idle()
  }
}

void PeerHooks::run(const PeerChange& change) {
  const std::string& command = change.up ? commands_.on_peer_up : commands_.on_peer_down;
  if (command.empty()) return;
  const char* event = change.up ? "peer_up" : "peer_down";
  const HookOutcome outcome = run_hook(command, hook_environment(change), commands_.timeout);
  std::lock_guard lock(mutex_);
  ++stats_.runs;
  if (outcome.ok()) return;
  if (outcome.kind == HookOutcome::Kind::timed_out) {
    ++stats_.timeouts;
  } else {
    ++stats_.failures;
  }
  log::warn("hooks: {} hook for {} {}", event, change.peer.to_string(), describe(outcome, commands_.timeout));
}

bool PeerHooks::wait_idle(Duration bound) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, bound, [&] { return order_.empty() && !running_; });
}

std::size_t PeerHooks::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

HookStats PeerHooks::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace hypar::app
