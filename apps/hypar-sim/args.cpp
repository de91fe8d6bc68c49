// SPDX-License-Identifier: Apache-2.0
#include "args.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <string_view>
#include <utility>

#include "cli_options.hpp"
#include "hypar/sim/scenarios.hpp"

namespace hypar::sim_app {
namespace {

const char* const kDescription =
    "usage: hypar-sim graph --nodes N --rounds R [--seed S] [options]\n"
    "       hypar-sim churn [--nodes N] [--rounds R] [--seed S] [--fail PCT] [--observe-s T] [options]\n"
    "       hypar-sim plumtree [--nodes N] [--messages M] [--senders 1|many] [--fail PCT] [--fail-per-round K]\n"
    "                          [--seed S] [--plot FILE] [options]\n"
    "       hypar-sim failures [--nodes N] [--fail P1,P2,...] [--messages M] [--broadcast flood|plumtree]\n"
    "                          [--seed S] [--plot FILE] [options]\n"
    "       hypar-sim partition [--nodes N] [--split PCT|Kn] [--cut-s T] [--observe-s T] [--seed S] [options]\n"
    "\n"
    "graph: joins N nodes one by one through node 0, runs R shuffle rounds (R x shuffle period of\n"
    "       virtual time, keepalive off), and prints the active-view graph's metrics as metric,value CSV,\n"
    "       with the same metrics of a random regular graph of the same size and degree (--active-size)\n"
    "       beside them as a baseline (rows random_regular_*; its own stream of the seed), and what\n"
    "       building it cost: connections_opened and protocol_messages (HyParView, all nodes).\n"
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
    "       every live node),orphaned_at_crash (live nodes with no live peer in either view right after\n"
    "       the crash),cut_off_at_end (live nodes outside the largest component of the live active\n"
    "       views when the run ends),stranded_at_end (of those, nodes with no live active peer),\n"
    "       stranded_senders (broadcasts sent by a node with no live active peer: they reach nobody).\n"
    "partition: builds the same overlay (keepalive on), cuts it silently into two sides for --cut-s\n"
    "       virtual seconds (traffic between them is held back, as by a firewall dropping packets), heals,\n"
    "       observes --observe-s seconds more, and prints one CSV row per virtual second from the cut:\n"
    "       time_s,phase,components,cross_links,full_views,messages,link_changes (phase before|cut|healed;\n"
    "       messages: HyParView messages but keepalives sent in that second; link_changes: PeerUp+PeerDown).\n"
    "graph and failures run without keepalive; --keepalive is for churn, plumtree and partition.\n"
    "Every command: each item on a link takes a latency drawn uniformly from --latency MIN,MAX ms\n"
    "       (1,10; 5,5 gives the equal-latency rounds of PeerSim-style experiments).\n"
    "failures --broadcast plumtree sends the broadcasts with Plumtree instead of flooding; the\n"
    "       Plumtree options (--optimization-threshold, --ihave-batch-interval, --graft-timeout-1,\n"
    "       --graft-timeout-2) are for plumtree and failures --broadcast plumtree.\n";

const char* const kFooter = "Exit status: 0 when the run completed, 1 when it failed, 2 on bad arguments.\n";

constexpr std::pair<std::string_view, Command> kCommands[] = {
    {"graph", Command::graph}, {"churn", Command::churn}, {"plumtree", Command::plumtree}, {"failures", Command::failures},
    {"partition", Command::partition}};
const std::string kExpected = " (expected \"graph\", \"churn\", \"plumtree\", \"failures\" or \"partition\")";

// The defaults that depend on the command, for the options not given. plumtree and partition
// measure a settled overlay: they build until the join swaps are over (5 rounds without them).
void apply_command_defaults(SimArgs& args, const CLI::App& app) {
  const auto unset = [&app](const char* name) { return app.count(name) == 0; };
  const std::uint64_t settled_rounds = std::max<std::uint64_t>(5, sim::join_swap_rounds(args.options));
  switch (args.command) {
    case Command::graph: break;
    case Command::churn:
      if (unset("--nodes")) args.nodes = 1000;
      if (unset("--rounds")) args.rounds = 20;
      break;
    case Command::plumtree:
      if (unset("--nodes")) args.nodes = 1000;
      if (unset("--rounds")) args.rounds = settled_rounds;
      args.fail_percent = 0;  // unless --fail (read after this)
      break;
    case Command::failures:
      if (unset("--nodes")) args.nodes = 1000;
      if (unset("--rounds")) args.rounds = 50;
      if (unset("--messages")) args.messages = 1000;
      args.fail_levels = {10, 20, 30, 40, 50, 60, 70, 80, 90, 95};
      break;
    case Command::partition:
      if (unset("--nodes")) args.nodes = 1000;
      if (unset("--rounds")) args.rounds = settled_rounds;
      if (unset("--observe-s")) args.observe_s = 120;
      break;
  }
}

// --fail: a percentage, or for failures a comma-separated list of them. Returns an error sentence.
std::string read_fail(SimArgs& args, const std::string& text) {
  std::string error;
  if (args.command != Command::failures) {
    if (const auto value = cli::read_uint("--fail", text, 0, 100, error)) args.fail_percent = *value;
    return error;
  }
  std::vector<std::uint64_t> levels;
  std::string_view rest = text;
  for (;;) {
    const std::size_t comma = rest.find(',');
    const auto value = cli::read_uint("--fail", std::string(rest.substr(0, comma)), 0, 99, error);
    if (!value) return "--fail must be a comma-separated list of percentages 0..99 (got \"" + text + "\")";
    levels.push_back(*value);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  args.fail_levels = std::move(levels);
  return {};
}

constexpr const char* kPlumtreeOptions[] = {"--optimization-threshold", "--ihave-batch-interval", "--graft-timeout-1",
                                             "--graft-timeout-2"};

// Every problem of the Plumtree options in one sentence, or empty.
std::string plumtree_problems(const plumtree::Options& options) {
  const auto problems = options.validate();
  if (problems.empty()) return {};
  std::string message = "invalid Plumtree options: ";
  for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  return message;
}

// --broadcast and the Plumtree options: where they apply.
std::string broadcast_problems(const SimArgs& args, const CLI::App& app) {
  const bool failures = args.command == Command::failures;
  if (app.count("--broadcast") && !failures) return "--broadcast is for failures";
  for (const char* name : kPlumtreeOptions) {
    if (app.count(name) == 0) continue;
    if (failures && !args.broadcast_plumtree) return std::string(name) + " on failures needs --broadcast plumtree";
    if (!failures && args.command != Command::plumtree) return std::string(name) + " is for plumtree and failures";
  }
  return plumtree_problems(args.plumtree);
}

// The checks that depend on the command.
std::string command_problems(SimArgs& args, const CLI::App& app, const std::string& fail_text) {
  if (std::string error = broadcast_problems(args, app); !error.empty()) return error;
  const bool plots = args.command == Command::plumtree || args.command == Command::failures;
  if (app.count("--plot") && !plots) return "--plot is for plumtree and failures";
  for (const char* name : {"--crash-notice", "--jobs", "--build-per-level"}) {
    if (app.count(name) && args.command != Command::failures) return std::string(name) + " is for failures";
  }
  if (app.count("--metrics-out") && !(args.command == Command::graph || args.command == Command::churn)) {
    return "--metrics-out is for graph and churn";
  }
  const bool partition = args.command == Command::partition;
  if (app.count("--keepalive") &&
      !(args.command == Command::churn || args.command == Command::plumtree || partition)) {
    return "--keepalive is for churn, plumtree and partition (graph and failures run without keepalive)";
  }
  for (const char* name : {"--split", "--cut-s"}) {
    if (app.count(name) && !partition) return std::string(name) + " is for partition";
  }
  if (partition && args.split.isolated >= args.nodes) {
    return "--split " + std::to_string(args.split.isolated) + "n must leave nodes on the other side (--nodes " +
           std::to_string(args.nodes) + ")";
  }
  if (app.count("--fail")) {
    if (std::string error = read_fail(args, fail_text); !error.empty()) return error;
  }
  if (args.command == Command::graph && (app.count("--nodes") == 0 || app.count("--rounds") == 0)) {
    return "graph needs --nodes and --rounds";
  }
  return cli::protocol_problems(args.options);
}

// The size of a run and its seed.
void add_run_options(CLI::App& app, SimArgs& args) {
  cli::add_uint(app, "--nodes", args.nodes, 1, 16'000'000,
                "number of nodes (1..16000000) [graph: required; others: 1000]");
  cli::add_uint(app, "--rounds", args.rounds, 0, 1'000'000,
                "shuffle rounds after the last join [graph: required; churn 20, failures 50;\n"
                "plumtree, partition: --join-swaps + 7 (15), at least 5]", "R");
  cli::add_uint(app, "--seed", args.seed, 0, UINT64_MAX, "master seed; the same seed gives the same output [1]", "S");
}

// What plumtree and failures broadcast, and what they crash meanwhile; `fail_text` keeps --fail
// as given (its meaning depends on the command, read by read_fail()).
void add_broadcast_options(CLI::App& app, SimArgs& args, std::string& fail_text) {
  cli::add_value(app, "--fail", "PCT",
                 "churn, plumtree: percentage of nodes crashed at once (0..100) [churn 30, plumtree 0]\n"
                 "failures (--fail P1,P2,...): the levels, percentages 0..99\n"
                 "[10,20,30,40,50,60,70,80,90,95]",
                 [&fail_text](const std::string& text) { fail_text = text; });
  cli::add_uint(app, "--messages", args.messages, 1, 1'000'000,
                "plumtree: broadcast rounds [100]; failures: broadcasts per level [1000]", "M");
  cli::add_value(app, "--senders", "1|many", "plumtree: node 0 sends every message, or a random live node each [1]",
                 [&args](const std::string& text) {
                   if (text != "1" && text != "many") cli::reject("--senders must be 1 or many (got \"" + text + "\")");
                   args.many_senders = text == "many";
                 });
  cli::add_uint(app, "--fail-per-round", args.fail_per_round, 0, 16'000'000,
                "plumtree: nodes crashed before each round [0]", "K");
  cli::add_uint(app, "--round-ms", args.round_ms, 1, 3'600'000,
                "plumtree, failures: virtual time per broadcast [500]", "T");
}

// Files written besides the CSV on stdout.
void add_output_options(CLI::App& app, SimArgs& args) {
  cli::add_value(app, "--plot", "FILE", "plumtree, failures: also write the figure as an SVG file",
                 [&args](const std::string& text) {
                   if (text.empty()) cli::reject("--plot needs a file name");
                   args.plot_path = text;
                 });
  cli::add_value(app, "--metrics-out", "FILE",
                 "graph, churn: at the end, write every node's metrics (the names a real\n"
                 "node serves on /metrics, labelled node=\"IP:PORT\") as Prometheus text",
                 [&args](const std::string& text) {
                   if (text.empty()) cli::reject("missing file name after --metrics-out");
                   args.metrics_out = text;
                 });
}

// How crashes are noticed, and the partition experiment's cut.
void add_failure_options(CLI::App& app, SimArgs& args) {
  cli::add_value(app, "--crash-notice", "reset|on-send",
                 "failures: a crash resets its links at once, or is noticed only\n"
                 "when a neighbour sends to the dead node [reset]",
                 [&args](const std::string& text) {
                   if (text != "reset" && text != "on-send") {
                     cli::reject("--crash-notice must be reset or on-send (got \"" + text + "\")");
                   }
                   args.crash_notice_on_send = text == "on-send";
                 });
  cli::add_uint(app, "--jobs", args.jobs, 0, 1'024,
                "failures: levels run at once, each in a process forked from the overlay\n"
                "built once, 0: one per CPU [0]", "N");
  app.add_flag("--build-per-level", args.build_per_level,
               "failures: build every level's overlay anew in this process, one level at a\n"
               "time (slower; the same rows)");
  cli::add_uint(app, "--observe-s", args.observe_s, 1, 86'400,
                "churn: virtual seconds observed after the crash [30];\npartition: after the heal [120]", "T");
  cli::add_value(app, "--split", "PCT|Kn",
                 "partition: PCT % of the nodes on one side (1..99), or Kn: K isolated nodes [50]",
                 [&args](const std::string& text) {
                   const auto split = sim::parse_split(text);
                   if (!split) {
                     cli::reject("--split must be a percentage 1..99 or Kn (K isolated nodes) (got \"" + text + "\")");
                   }
                   args.split = *split;
                 });
  cli::add_uint(app, "--cut-s", args.cut_s, 0, 86'400,
                "partition: virtual seconds the cut lasts, 0: no cut (steady state) [30]", "T");
}

// Partition healing and probing (protocol options the simulator sets in seconds).
void add_healing_options(CLI::App& app, SimArgs& args) {
  cli::add_uint(app, "--heal-memory", args.options.heal_memory, 0, 4'096,
                "lost peers a node remembers and asks again, 0: no healing [5]", "K");
  cli::add_uint(app, "--heal-retry-max-s", 1, 86'400, "longest wait between two asks of a lost peer [60]",
                [&args](std::uint64_t v) { args.options.heal_retry_max = std::chrono::seconds(v); }, "T");
  cli::add_uint(app, "--probe-s", 0, 86'400, "ask a random spare with high priority every T s when full, 0: off [0]",
                [&args](std::uint64_t v) { args.options.probe_period = std::chrono::seconds(v); }, "T");
}

// --latency MIN,MAX in whole milliseconds, MIN <= MAX <= 60000.
void read_latency(SimArgs& args, const std::string& text) {
  const std::size_t comma = text.find(',');
  std::string error;
  const auto read = [&](const std::string& part) { return cli::read_uint("--latency", part, 0, 60'000, error); };
  const auto low = comma == std::string::npos ? std::nullopt : read(text.substr(0, comma));
  const auto high = comma == std::string::npos ? std::nullopt : read(text.substr(comma + 1));
  if (!low || !high || *low > *high) {
    cli::reject("--latency must be MIN,MAX in milliseconds, 0 <= MIN <= MAX <= 60000 (got \"" + text + "\")");
  }
  args.latency_min = milliseconds(static_cast<std::int64_t>(*low));
  args.latency_max = milliseconds(static_cast<std::int64_t>(*high));
}

// The simulated network and the Plumtree options.
void add_network_options(CLI::App& app, SimArgs& args) {
  cli::add_value(app, "--latency", "MIN,MAX", "every command: link latency in ms, uniform in [MIN, MAX] [1,10]",
                 [&args](const std::string& text) { read_latency(args, text); });
  cli::add_choice(app, "--broadcast", {"flood", "plumtree"},
                  "failures: flood over the active views (the HyParView paper), or Plumtree [flood]",
                  [&args](const std::string& text) { args.broadcast_plumtree = text == "plumtree"; }, "flood|plumtree");
  const plumtree::Options defaults;
  const auto ms = [](Duration d) { return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + "ms"; };
  cli::add_uint(app, "--optimization-threshold", args.plumtree.optimization_threshold, 1, 65'535,
                "Plumtree: hops an IHAVE must save to swap a lazy link for the eager one [" +
                    std::to_string(defaults.optimization_threshold) + "]",
                "K");
  cli::add_duration(app, "--ihave-batch-interval",
                    "Plumtree: IHAVEs are collected this long, then sent [" + ms(defaults.ihave_batch_interval) + "]",
                    [&args](Duration d) { args.plumtree.ihave_batch_interval = d; });
  cli::add_duration(app, "--graft-timeout-1",
                    "Plumtree: wait for a payload announced by IHAVE, then GRAFT [" + ms(defaults.graft_timeout_1) + "]",
                    [&args](Duration d) { args.plumtree.graft_timeout_1 = d; });
  cli::add_duration(app, "--graft-timeout-2",
                    "Plumtree: each later wait before grafting the next announcer [" + ms(defaults.graft_timeout_2) +
                        "]",
                    [&args](Duration d) { args.plumtree.graft_timeout_2 = d; });
}

// Finds the command and applies its defaults and checks; the error, or "" when the run may go.
std::string resolve_command(const std::string& command, SimArgs& args, const CLI::App& app,
                            const std::string& fail_text) {
  const auto* known = std::find_if(std::begin(kCommands), std::end(kCommands),
                                   [&command](const auto& c) { return c.first == command; });
  if (command.empty()) return "missing command" + kExpected;
  if (known == std::end(kCommands)) return "unknown command \"" + command + "\"" + kExpected;
  args.command = known->second;
  apply_command_defaults(args, app);
  return command_problems(args, app, fail_text);
}

}  // namespace

ParseResult parse_args(int argc, const char* const* argv) {
  SimArgs args;
  std::string command;
  std::string fail_text;
  CLI::App app("", "hypar-sim");
  cli::configure(app, kDescription, kFooter);
  app.add_option("command", command)->group("");  // hidden: the synopsis names the commands
  add_run_options(app, args);
  add_broadcast_options(app, args, fail_text);
  add_output_options(app, args);
  add_failure_options(app, args);
  add_healing_options(app, args);
  add_network_options(app, args);
  cli::add_protocol_options(app, args.options);
  cli::add_uint(app, "--join-interval-ms", args.join_interval_ms, 1, 3'600'000,
                "virtual time between two joins [10]", "T");
  app.add_flag("--quiet", args.quiet, "no progress on stderr");

  ParseResult result;
  result.usage = app.help();
  const cli::Parsed parsed = cli::parse(app, argc, argv);
  result.help = parsed.help;
  result.version = parsed.version;
  result.error = parsed.error;
  if (!parsed.ok()) return result;
  result.error = resolve_command(command, args, app, fail_text);
  if (result.error.empty()) result.args = std::move(args);
  return result;
}

}  // namespace hypar::sim_app
