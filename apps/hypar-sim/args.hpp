// SPDX-License-Identifier: Apache-2.0
#pragma once
// Command-line parsing for hypar-sim, on CLI11: a command ("graph", "churn", "plumtree", "failures"
// or "partition") and its options; the protocol options are the node apps' (apps/hypar/cli_options.hpp).
// Parsing only; no IO.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hypar/hyparview/options.hpp"
#include "hypar/plumtree/options.hpp"
#include "hypar/time.hpp"
#include "hypar/sim/partition.hpp"

namespace hypar::sim_app {

enum class Command { graph, churn, plumtree, failures, partition };

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
  std::uint64_t jobs = 0;                  // failures: levels run at once; 0: one per CPU
  bool build_per_level = false;            // failures: build each level's overlay anew (no fork)
  bool quiet = false;
  sim::Split split;          // partition
  std::uint64_t cut_s = 30;  // partition
  hyparview::Options options;
  Duration latency_min = milliseconds(1);   // every command: the simulator's link latency, uniform
  Duration latency_max = milliseconds(10);
  bool broadcast_plumtree = false;  // failures: --broadcast plumtree
  plumtree::Options plumtree;       // plumtree, failures --broadcast plumtree
};

struct ParseResult {
  bool help = false;     // --help or -h: print the usage, exit 0
  bool version = false;  // --version: print "hypar-sim VERSION", exit 0
  std::optional<SimArgs> args;  // set on success
  std::string error;            // set on failure: one sentence
  std::string usage;            // the --help text, always set
};

// argv[0] is the program name.
ParseResult parse_args(int argc, const char* const* argv);

}  // namespace hypar::sim_app
