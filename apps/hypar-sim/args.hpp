#pragma once
// Command-line parsing for hypar-sim: a command ("graph", "churn", "plumtree" or "failures") and --name value
// options.
// Parsing only; no IO.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hypar/hyparview/options.hpp"

namespace hypar::sim_app {

inline constexpr std::string_view kUsage =
    "usage: hypar-sim graph --nodes N --rounds R [--seed S] [options]\n"
    "       hypar-sim churn [--nodes N] [--rounds R] [--seed S] [--fail PCT] [--observe-s T] [options]\n"
    "       hypar-sim plumtree [--nodes N] [--messages M] [--senders 1|many] [--fail PCT] [--fail-per-round K]\n"
    "                          [--seed S] [--plot FILE] [options]\n"
    "       hypar-sim failures [--nodes N] [--fail P1,P2,...] [--messages M] [--seed S] [--plot FILE] [options]\n"
    "\n"
    "graph: joins N nodes one by one through node 0, runs R shuffle rounds (R x shuffle period of\n"
    "       virtual time, keepalive off), and prints the active-view graph's metrics as metric,value CSV.\n"
    "churn: builds the same overlay (keepalive on), crashes PCT% of the nodes at once, and prints one\n"
    "       CSV row per virtual second while the survivors repair: time_s,alive,connected,symmetric,\n"
    "       dead_in_active,full_active,short_by_one,avg_active.\n"
    "plumtree: builds the same overlay (keepalive on) with Plumtree on every node, crashes PCT% of the\n"
    "       nodes at once, then runs M broadcast rounds (one broadcast, then --round-ms of virtual time;\n"
    "       K random nodes crash before each round) and prints one CSV row per round:\n"
    "       round,reliability,rmr,ldh,payload_msgs,control_msgs.\n"
    "failures: the HyParView paper's failure experiment. For each level P: builds the overlay (keepalive\n"
    "       off, R rounds), crashes P% of the nodes at once, stops membership rounds (reactive repair goes\n"
    "       on), then floods M broadcasts from random live nodes, one per\n"
    "       --round-ms of virtual time, and prints one CSV row per level:\n"
    "       failed_pct,avg_reliability,first_msg_reliability,msgs_until_full (0: no broadcast reached\n"
    "       every live node).\n"
    "\n"
    "options (defaults in brackets):\n"
    "  --nodes N            number of nodes (1..16000000) [graph: required; others: 1000]\n"
    "  --rounds R           shuffle rounds after the last join [graph: required; churn 20, plumtree 5, failures 50]\n"
    "  --seed S             master seed; the same seed gives the same output [1]\n"
    "  --fail PCT           churn, plumtree: percentage of nodes crashed at once (0..100) [churn 30, plumtree 0]\n"
    "  --fail P1,P2,...     failures: the levels, percentages 0..99 [10,20,30,40,50,60,70,80,90,95]\n"
    "  --messages M         plumtree: broadcast rounds [100]; failures: broadcasts per level [1000]\n"
    "  --senders 1|many     plumtree: node 0 sends every message, or a random live node each [1]\n"
    "  --fail-per-round K   plumtree: nodes crashed before each round [0]\n"
    "  --round-ms T         plumtree, failures: virtual time per broadcast [500]\n"
    "  --plot FILE          plumtree, failures: also write the figure as an SVG file\n"
    "  --crash-notice reset|on-send  failures: a crash resets its links at once, or is noticed only\n"
    "                       when a neighbour sends to the dead node [reset]\n"
    "  --observe-s T        churn: virtual seconds observed after the crash [30]\n"
    "  --metrics-out FILE   graph, churn: at the end, write every node's metrics (the names a real\n"
    "                       node serves on /metrics, labelled node=\"IP:PORT\") as Prometheus text\n"
    "  --active-size K      active view size [5]\n"
    "  --passive-size K     passive view size [30]\n"
    "  --arwl K             active random walk length [6]\n"
    "  --prwl K             passive random walk length [3]\n"
    "  --k-active K         active peers per shuffle [3]\n"
    "  --k-passive K        passive peers per shuffle [4]\n"
    "  --join-interval-ms T virtual time between two joins [10]\n"
    "  --quiet              no progress on stderr\n"
    "  --help               this text\n";

enum class Command { graph, churn, plumtree, failures };

struct SimArgs {
  Command command = Command::graph;
  std::uint64_t nodes = 0;
  std::uint64_t rounds = 0;
  std::uint64_t seed = 1;
  std::uint64_t fail_percent = 30;
  std::uint64_t observe_s = 30;
  std::uint64_t join_interval_ms = 10;
  std::uint64_t messages = 100;
  bool many_senders = false;
  std::uint64_t fail_per_round = 0;
  std::uint64_t round_ms = 500;
  std::vector<std::uint64_t> fail_levels;  // failures: percentages, in the order given
  std::string plot_path;                   // empty: no plot
  std::string metrics_out;                 // graph, churn: Prometheus text file; empty: none
  bool crash_notice_on_send = false;       // failures: --crash-notice on-send
  bool quiet = false;
  hyparview::Options options;
};

struct ParseResult {
  bool help = false;
  std::optional<SimArgs> args;  // set on success
  std::string error;            // set on failure
};

namespace detail {

inline std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

// One numeric option: its name, its bounds, and where the value goes.
struct NumericOption {
  std::string_view name;
  std::uint64_t min;
  std::uint64_t max;
  void (*store)(SimArgs&, std::uint64_t);
};

inline const std::vector<NumericOption>& numeric_options() {
  static const std::vector<NumericOption> table = {
      {"--nodes", 1, 16'000'000, [](SimArgs& a, std::uint64_t v) { a.nodes = v; }},
      {"--rounds", 0, 1'000'000, [](SimArgs& a, std::uint64_t v) { a.rounds = v; }},
      {"--seed", 0, UINT64_MAX, [](SimArgs& a, std::uint64_t v) { a.seed = v; }},
      {"--fail", 0, 100, [](SimArgs& a, std::uint64_t v) { a.fail_percent = v; }},
      {"--observe-s", 1, 86'400, [](SimArgs& a, std::uint64_t v) { a.observe_s = v; }},
      {"--active-size", 0, 1'000, [](SimArgs& a, std::uint64_t v) { a.options.active_size = v; }},
      {"--passive-size", 0, 100'000, [](SimArgs& a, std::uint64_t v) { a.options.passive_size = v; }},
      {"--arwl", 0, 255, [](SimArgs& a, std::uint64_t v) { a.options.arwl = static_cast<std::uint8_t>(v); }},
      {"--prwl", 0, 255, [](SimArgs& a, std::uint64_t v) { a.options.prwl = static_cast<std::uint8_t>(v); }},
      {"--k-active", 0, 1'000, [](SimArgs& a, std::uint64_t v) { a.options.k_active = v; }},
      {"--k-passive", 0, 1'000, [](SimArgs& a, std::uint64_t v) { a.options.k_passive = v; }},
      {"--join-interval-ms", 1, 3'600'000, [](SimArgs& a, std::uint64_t v) { a.join_interval_ms = v; }},
      {"--messages", 1, 1'000'000, [](SimArgs& a, std::uint64_t v) { a.messages = v; }},
      {"--fail-per-round", 0, 16'000'000, [](SimArgs& a, std::uint64_t v) { a.fail_per_round = v; }},
      {"--round-ms", 1, 3'600'000, [](SimArgs& a, std::uint64_t v) { a.round_ms = v; }},
  };
  return table;
}

// "10,20,95" -> {10, 20, 95}; nullopt unless every item is an integer in [0, 99].
inline std::optional<std::vector<std::uint64_t>> parse_percent_list(std::string_view text) {
  std::vector<std::uint64_t> values;
  for (;;) {
    const std::size_t comma = text.find(',');
    const auto value = parse_u64(text.substr(0, comma));
    if (!value || *value > 99) return std::nullopt;
    values.push_back(*value);
    if (comma == std::string_view::npos) return values;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace detail

// argv[0] is the program name.
inline ParseResult parse_args(int argc, const char* const* argv) {
  ParseResult result;
  const std::vector<std::string_view> words(argv + 1, argv + argc);
  for (auto w : words) {
    if (w == "--help" || w == "-h") {
      result.help = true;
      return result;
    }
  }
  auto fail = [&result](std::string message) {
    result.error = std::move(message);
    return result;
  };
  if (words.empty()) return fail("missing command (expected \"graph\", \"churn\", \"plumtree\" or \"failures\")");
  SimArgs args;
  if (words[0] == "graph") {
    args.command = Command::graph;
  } else if (words[0] == "churn") {
    args.command = Command::churn;
    args.nodes = 1000;
    args.rounds = 20;
  } else if (words[0] == "plumtree") {
    args.command = Command::plumtree;
    args.nodes = 1000;
    args.rounds = 5;
    args.fail_percent = 0;
  } else if (words[0] == "failures") {
    args.command = Command::failures;
    args.nodes = 1000;
    args.rounds = 50;
    args.messages = 1000;
    args.fail_levels = {10, 20, 30, 40, 50, 60, 70, 80, 90, 95};
  } else {
    return fail("unknown command \"" + std::string(words[0]) +
                "\" (expected \"graph\", \"churn\", \"plumtree\" or \"failures\")");
  }
  bool have_nodes = false, have_rounds = false;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string_view name = words[i];
    if (name == "--quiet") {
      args.quiet = true;
      continue;
    }
    if (name == "--senders") {
      if (i + 1 >= words.size()) return fail("missing value after --senders");
      const std::string_view value = words[++i];
      if (value != "1" && value != "many") return fail("--senders must be 1 or many (got \"" + std::string(value) + "\")");
      args.many_senders = value == "many";
      continue;
    }
    if (name == "--plot") {
      if (args.command != Command::plumtree && args.command != Command::failures) {
        return fail("--plot is for plumtree and failures");
      }
      if (i + 1 >= words.size() || words[i + 1].empty()) return fail("missing file name after --plot");
      args.plot_path = std::string(words[++i]);
      continue;
    }
    if (name == "--metrics-out") {
      if (args.command != Command::graph && args.command != Command::churn) return fail("--metrics-out is for graph and churn");
      if (i + 1 >= words.size() || words[i + 1].empty()) return fail("missing file name after --metrics-out");
      args.metrics_out = std::string(words[++i]);
      continue;
    }
    if (name == "--crash-notice") {
      if (args.command != Command::failures) return fail("--crash-notice is for failures");
      if (i + 1 >= words.size()) return fail("missing value after --crash-notice");
      const std::string_view value = words[++i];
      if (value != "reset" && value != "on-send") {
        return fail("--crash-notice must be reset or on-send (got \"" + std::string(value) + "\")");
      }
      args.crash_notice_on_send = value == "on-send";
      continue;
    }
    if (name == "--fail" && args.command == Command::failures) {
      if (i + 1 >= words.size()) return fail("missing value after --fail");
      const std::string_view value = words[++i];
      const auto levels = detail::parse_percent_list(value);
      if (!levels) {
        return fail("--fail must be a comma-separated list of percentages 0..99 (got \"" + std::string(value) + "\")");
      }
      args.fail_levels = *levels;
      continue;
    }
    const detail::NumericOption* option = nullptr;
    for (const auto& o : detail::numeric_options()) {
      if (o.name == name) option = &o;
    }
    if (!option) return fail("unknown option " + std::string(name));
    if (i + 1 >= words.size()) return fail("missing value after " + std::string(name));
    const std::string_view text = words[++i];
    const auto value = detail::parse_u64(text);
    if (!value) {
      return fail("bad value \"" + std::string(text) + "\" for " + std::string(name) + " (expected an unsigned integer)");
    }
    if (*value < option->min || *value > option->max) {
      return fail(std::string(name) + " must be between " + std::to_string(option->min) + " and " +
                  std::to_string(option->max) + " (got " + std::to_string(*value) + ")");
    }
    option->store(args, *value);
    have_nodes |= name == "--nodes";
    have_rounds |= name == "--rounds";
  }
  if (args.command == Command::graph && (!have_nodes || !have_rounds)) {
    return fail("graph needs --nodes and --rounds");
  }
  result.args = args;
  return result;
}

}  // namespace hypar::sim_app
