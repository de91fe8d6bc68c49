#pragma once
// Command-line parsing for hypar-sim: "graph" with --name value options. Parsing only; no IO.
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hypar/hyparview/options.hpp"

namespace hypar::sim_app {

inline constexpr std::string_view kUsage =
    "usage: hypar-sim graph --nodes N --rounds R --seed S [options]\n"
    "\n"
    "Joins N nodes one by one through node 0, runs R shuffle rounds (R x shuffle period of\n"
    "virtual time, keepalive off), and prints the active-view graph's metrics as metric,value CSV.\n"
    "\n"
    "options (defaults in brackets):\n"
    "  --nodes N            number of nodes (1..16000000) [required]\n"
    "  --rounds R           shuffle rounds after the last join [required]\n"
    "  --seed S             master seed [required]\n"
    "  --active-size K      active view size [5]\n"
    "  --passive-size K     passive view size [30]\n"
    "  --arwl K             active random walk length [6]\n"
    "  --prwl K             passive random walk length [3]\n"
    "  --k-active K         active peers per shuffle [3]\n"
    "  --k-passive K        passive peers per shuffle [4]\n"
    "  --join-interval-ms T virtual time between two joins [10]\n"
    "  --quiet              no progress on stderr\n"
    "  --help               this text\n";

struct GraphArgs {
  std::uint64_t nodes = 0;
  std::uint64_t rounds = 0;
  std::uint64_t seed = 0;
  std::uint64_t join_interval_ms = 10;
  bool quiet = false;
  hyparview::Options options;
};

struct ParseResult {
  bool help = false;
  std::optional<GraphArgs> args;  // set on success
  std::string error;              // set on failure
};

namespace detail {

inline std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

}  // namespace detail

// argv[0] is the program name.
inline ParseResult parse_args(int argc, const char* const* argv) {
  ParseResult result;
  std::vector<std::string_view> words(argv + 1, argv + argc);
  for (auto w : words) {
    if (w == "--help" || w == "-h") {
      result.help = true;
      return result;
    }
  }
  if (words.empty()) {
    result.error = "missing command (expected \"graph\")";
    return result;
  }
  if (words[0] != "graph") {
    result.error = "unknown command \"" + std::string(words[0]) + "\" (expected \"graph\")";
    return result;
  }
  GraphArgs args;
  bool have_nodes = false, have_rounds = false, have_seed = false;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string_view name = words[i];
    if (name == "--quiet") {
      args.quiet = true;
      continue;
    }
    if (i + 1 >= words.size()) {
      result.error = "missing value after " + std::string(name);
      return result;
    }
    const std::string_view text = words[++i];
    const auto value = detail::parse_u64(text);
    if (!value) {
      result.error = "bad value \"" + std::string(text) + "\" for " + std::string(name) + " (expected an unsigned integer)";
      return result;
    }
    const std::uint64_t v = *value;
    const auto small = [&](std::uint64_t max) {
      if (v > max) result.error = std::string(name) + " must be at most " + std::to_string(max);
      return v <= max;
    };
    if (name == "--nodes") {
      if (!small(16'000'000)) return result;
      if (v == 0) {
        result.error = "--nodes must be at least 1";
        return result;
      }
      args.nodes = v;
      have_nodes = true;
    } else if (name == "--rounds") {
      if (!small(1'000'000)) return result;
      args.rounds = v;
      have_rounds = true;
    } else if (name == "--seed") {
      args.seed = v;
      have_seed = true;
    } else if (name == "--active-size") {
      if (!small(1'000)) return result;
      args.options.active_size = v;
    } else if (name == "--passive-size") {
      if (!small(100'000)) return result;
      args.options.passive_size = v;
    } else if (name == "--arwl") {
      if (!small(255)) return result;
      args.options.arwl = static_cast<std::uint8_t>(v);
    } else if (name == "--prwl") {
      if (!small(255)) return result;
      args.options.prwl = static_cast<std::uint8_t>(v);
    } else if (name == "--k-active") {
      if (!small(1'000)) return result;
      args.options.k_active = v;
    } else if (name == "--k-passive") {
      if (!small(1'000)) return result;
      args.options.k_passive = v;
    } else if (name == "--join-interval-ms") {
      if (!small(3'600'000)) return result;
      args.join_interval_ms = v;
    } else {
      result.error = "unknown option " + std::string(name);
      return result;
    }
  }
  if (!have_nodes || !have_rounds || !have_seed) {
    result.error = "--nodes, --rounds and --seed are required";
    return result;
  }
  result.args = args;
  return result;
}

}  // namespace hypar::sim_app
