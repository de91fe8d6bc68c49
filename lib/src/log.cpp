#include "hypar/log.hpp"

#include <atomic>
#include <cstdio>

namespace hypar::log {
namespace {
std::atomic<Level> g_level{Level::info};
constexpr const char* kNames[] = {"debug", "info", "warn", "error", "off"};
}  // namespace

void set_level(Level l) { g_level.store(l, std::memory_order_relaxed); }
Level level() { return g_level.load(std::memory_order_relaxed); }

void write(Level l, std::string_view message) {
  // One fprintf per line keeps lines from interleaving between threads.
  std::fprintf(stderr, "[%s] %.*s\n", kNames[static_cast<int>(l)], static_cast<int>(message.size()),
               message.data());
}

}  // namespace hypar::log
