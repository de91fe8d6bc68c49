// SPDX-License-Identifier: Apache-2.0
#include "hypar/log.hpp"

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>

namespace hypar::log {
namespace {

std::atomic<Level> g_level{Level::info};
constexpr std::string_view kNames[] = {"debug", "info", "warn", "error", "off"};

// The installed sink; null: write_stderr. Readers copy the pointer under the mutex and call the
// sink outside it, so a sink may log (or replace the sink) without deadlocking.
std::mutex g_sink_mutex;
std::shared_ptr<const Sink> g_sink;

std::shared_ptr<const Sink> current_sink() {
  std::lock_guard lock(g_sink_mutex);
  return g_sink;
}

}  // namespace

std::string_view level_name(Level l) {
  const auto i = static_cast<std::size_t>(l);
  return i < std::size(kNames) ? kNames[i] : "?";
}

void set_level(Level l) { g_level.store(l, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

void set_sink(Sink sink) {
  std::shared_ptr<const Sink> next;
  if (sink) next = std::make_shared<const Sink>(std::move(sink));
  std::lock_guard lock(g_sink_mutex);
  g_sink.swap(next);
  // `next` (the old sink) is released here, or later by the last write still using it.
}

void write_stderr(Level l, std::string_view, std::string_view message) {
  const std::string_view name = level_name(l);
  // One fprintf per line keeps lines from interleaving between threads.
  std::fprintf(stderr, "[%.*s] %.*s\n", static_cast<int>(name.size()), name.data(), static_cast<int>(message.size()),
               message.data());
}

void write(Level l, std::string_view component, std::string_view message) {
  const std::shared_ptr<const Sink> sink = current_sink();
  try {
    if (sink) {
      (*sink)(l, component, message);
    } else {
      write_stderr(l, component, message);
    }
  } catch (...) {  // a sink that throws loses its line; logging never throws
  }
}

void write(Level l, std::string_view message) { write(l, "hypar", message); }

std::string_view component_of(std::string_view path) {
  // Walk the directories from the innermost one, skipping "src" and "include".
  std::size_t end = path.find_last_of('/');
  while (end != std::string_view::npos && end > 0) {
    const std::size_t slash = path.find_last_of('/', end - 1);
    const std::size_t begin = slash == std::string_view::npos ? 0 : slash + 1;
    const std::string_view dir = path.substr(begin, end - begin);
    if (!dir.empty() && dir != "src" && dir != "include" && dir != "." && dir != "..") return dir;
    if (slash == std::string_view::npos) break;
    end = slash;
  }
  return "hypar";
}

}  // namespace hypar::log
