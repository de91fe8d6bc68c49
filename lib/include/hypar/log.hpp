// SPDX-License-Identifier: Apache-2.0
#pragma once
// Leveled logging through fmt, into a pluggable sink. The level is process-wide and set once at
// start (e.g. from a CLI flag); logging never throws.
//
//   log::info("joined through {}", contact);          // component: the caller's source directory
//   constexpr log::Logger kLog{"gossip"};
//   kLog.warn("dropped {} bytes", n);                  // component: "gossip"
//
// Every line has a level, a component and a message. The component of log::info(...) and friends
// is the directory of the source file that calls them, skipping "src" and "include"
// (overlay/node/src/peer_ctl.cpp -> "node", transport/src/select.cpp -> "transport",
// apps/flooder/main.cpp -> "flooder"), so no call site has to name it; a Logger names it
// explicitly.
//
// By default lines go to stderr as "[level] message". A host application routes them into its
// own logger with set_sink(); the sink may be called from any thread that logs (one call per line),
// so it must be thread-safe itself.
#include <fmt/core.h>

#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

namespace hypar::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

// "debug", "info", "warn", "error" or "off".
std::string_view level_name(Level level);

void set_level(Level level);
Level level();

// Receives every line at or above the level: its level, component and message (no newline).
using Sink = std::function<void(Level level, std::string_view component, std::string_view message)>;

// Replaces the sink; an empty Sink restores the default (stderr). Safe to call while other threads
// log: each line goes whole to either the old or the new sink, and a line being written when
// set_sink returns may still finish in the old sink (which is destroyed after its last call).
void set_sink(Sink sink);

// The default sink: "[level] message" on stderr, one write per line.
void write_stderr(Level level, std::string_view component, std::string_view message);

// Hands one line to the sink (whatever the level).
void write(Level level, std::string_view component, std::string_view message);
// The same with the default component "hypar".
void write(Level level, std::string_view message);

// The component named by a source file path (see above); "hypar" when there is no directory.
std::string_view component_of(std::string_view file_path);

namespace detail {

// A format string checked at compile time, and where it is used (for the component).
template <class... Args>
struct FormatAt {
  // __builtin_FILE() rather than std::source_location: GCC and clang 14 both take it as a default
  // argument (the caller's file), and libstdc++ 12's <source_location> does not build with clang 14.
  template <class S>
  consteval FormatAt(const S& text, const char* caller_file = __builtin_FILE()) : format(text), file(caller_file) {}
  fmt::format_string<Args...> format;
  const char* file;
};

template <class... Args>
void emit(Level l, std::string_view component, fmt::format_string<Args...> f, Args&&... args) {
  if (level() > l) return;
  try {
    write(l, component, fmt::vformat(f, fmt::make_format_args(args...)));
  } catch (...) {  // out of memory, or a throwing formatter: logging never throws
  }
}

}  // namespace detail

template <class... Args>
void debug(detail::FormatAt<std::type_identity_t<Args>...> f, Args&&... args) {
  if (level() <= Level::debug) detail::emit<Args...>(Level::debug, component_of(f.file), f.format, std::forward<Args>(args)...);
}
template <class... Args>
void info(detail::FormatAt<std::type_identity_t<Args>...> f, Args&&... args) {
  if (level() <= Level::info) detail::emit<Args...>(Level::info, component_of(f.file), f.format, std::forward<Args>(args)...);
}
template <class... Args>
void warn(detail::FormatAt<std::type_identity_t<Args>...> f, Args&&... args) {
  if (level() <= Level::warn) detail::emit<Args...>(Level::warn, component_of(f.file), f.format, std::forward<Args>(args)...);
}
template <class... Args>
void error(detail::FormatAt<std::type_identity_t<Args>...> f, Args&&... args) {
  if (level() <= Level::error) detail::emit<Args...>(Level::error, component_of(f.file), f.format, std::forward<Args>(args)...);
}

// Logs under a component of its own choosing. Cheap to copy; the component text must outlive it
// (a string literal usually).
class Logger {
 public:
  constexpr explicit Logger(std::string_view component) : component_(component) {}
  constexpr std::string_view component() const { return component_; }

  template <class... Args>
  void debug(fmt::format_string<Args...> f, Args&&... args) const {
    detail::emit<Args...>(Level::debug, component_, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void info(fmt::format_string<Args...> f, Args&&... args) const {
    detail::emit<Args...>(Level::info, component_, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) const {
    detail::emit<Args...>(Level::warn, component_, f, std::forward<Args>(args)...);
  }
  template <class... Args>
  void error(fmt::format_string<Args...> f, Args&&... args) const {
    detail::emit<Args...>(Level::error, component_, f, std::forward<Args>(args)...);
  }

 private:
  std::string_view component_;
};

}  // namespace hypar::log
