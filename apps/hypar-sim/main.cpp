// SPDX-License-Identifier: Apache-2.0
// hypar-sim: runs the real HyParView core in the deterministic simulator.
//   hypar-sim graph --nodes N --rounds R --seed S [...]  -> metric,value CSV on stdout
//   hypar-sim churn [--nodes N] [--fail PCT] [...]      -> one health row per virtual second
//   hypar-sim plumtree [--nodes N] [--messages M] [...] -> one row per broadcast round
//   hypar-sim failures [--nodes N] [--fail P1,P2,...]   -> one row per failure level (the paper's experiment)
//   hypar-sim partition [--split 50|1n] [--cut-s T]     -> one row per virtual second around a cut and its heal
// plumtree and failures also draw their figure as SVG with --plot FILE.
// Progress goes to stderr. Exit codes: 0 ok, 1 run failed, 2 bad arguments or options. --version
// prints "hypar-sim VERSION".
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "args.hpp"
#include "cli_options.hpp"
#include "fork_each.hpp"
#include "hypar/sim/failure_experiment.hpp"
#include "hypar/sim/graph_metrics.hpp"
#include "hypar/sim/health.hpp"
#include "hypar/sim/partition.hpp"
#include "hypar/sim/plumtree_sim.hpp"
#include "hypar/sim/random_regular.hpp"
#include "hypar/sim/scenarios.hpp"
#include "hypar/sim/simulator.hpp"
#include "sim_metrics.hpp"
#include "svg_plot.hpp"

namespace {

using hypar::sim_app::SimArgs;

class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

double virtual_seconds(const hypar::sim::Simulator& sim) {
  return std::chrono::duration<double>(sim.now() - hypar::Instant{}).count();
}

void print_distribution(const char* name, const std::map<std::size_t, std::size_t>& counts) {
  for (const auto& [size, count] : counts) fmt::print("{}_{},{}\n", name, size, count);
}

// The seed stream of the random regular baseline (the nodes use streams 0..N-1).
constexpr std::uint64_t kBaselineStream = 0x7e6a1a7;

// What building the overlay cost, beside its shape: connections the cores opened and HyParView
// messages they sent (the join swaps' price, for one).
struct BuildCost {
  std::uint64_t connections_opened = 0;
  std::uint64_t protocol_messages = 0;
};

// The overlay's metrics, and beside them those of a random regular graph of the same size and
// degree (active_size), rows random_regular_*.
void print_csv(const SimArgs& args, const hypar::sim::GraphMetrics& m, const hypar::sim::GraphMetrics& baseline,
               std::size_t baseline_degree, const BuildCost& cost) {
  fmt::print("metric,value\n");
  fmt::print("nodes,{}\n", args.nodes);
  fmt::print("rounds,{}\n", args.rounds);
  fmt::print("seed,{}\n", args.seed);
  fmt::print("connections_opened,{}\n", cost.connections_opened);
  fmt::print("protocol_messages,{}\n", cost.protocol_messages);
  fmt::print("connected,{}\n", m.connected);
  fmt::print("symmetric,{}\n", m.symmetric);
  fmt::print("clustering_coefficient,{:.6f}\n", m.clustering_coefficient);
  fmt::print("avg_shortest_path,{:.6f}\n", m.avg_shortest_path);
  fmt::print("diameter,{}\n", m.diameter);
  fmt::print("random_regular_degree,{}\n", baseline_degree);
  fmt::print("random_regular_connected,{}\n", baseline.connected);
  fmt::print("random_regular_clustering_coefficient,{:.6f}\n", baseline.clustering_coefficient);
  fmt::print("random_regular_avg_shortest_path,{:.6f}\n", baseline.avg_shortest_path);
  fmt::print("random_regular_diameter,{}\n", baseline.diameter);
  print_distribution("active_size", m.active_size);
  print_distribution("passive_size", m.passive_size);
  print_distribution("in_degree", m.in_degree);
}

// Writes --metrics-out if given; false (after saying why) if it could not be written.
bool write_metrics(const SimArgs& args, const std::optional<hypar::sim_app::SimMetrics>& metrics) {
  if (!metrics) return true;
  const std::string error = metrics->write(args.metrics_out);
  if (!error.empty()) fmt::print(stderr, "hypar-sim: {}\n", error);
  return error.empty();
}

// The simulator's configuration every command starts from: the seed, the protocol and link options.
hypar::sim::Config sim_config(const SimArgs& args) {
  hypar::sim::Config config;
  config.seed = args.seed;
  config.options = args.options;
  config.latency_min = args.latency_min;
  config.latency_max = args.latency_max;
  return config;
}

// Joins args.nodes nodes one by one through node 0, then runs args.rounds shuffle periods.
int run_graph(const SimArgs& args) {
  hypar::sim::Config config = sim_config(args);
  config.options.keepalive_interval = hypar::Duration::zero();  // graph runs: no keepalive
  hypar::sim::Simulator sim(config);
  std::optional<hypar::sim_app::SimMetrics> sim_metrics;
  if (!args.metrics_out.empty()) sim_metrics.emplace(sim);
  const Stopwatch wall;
  const auto say = [&](std::string_view phase) {
    if (args.quiet) return;
    fmt::print(stderr, "[{:7.1f}s wall] {}: {} nodes, virtual {:.1f}s, {} events, {} links\n", wall.seconds(), phase,
               sim.size(), virtual_seconds(sim), sim.events_processed(), sim.open_links());
  };

  const std::uint64_t join_step = std::max<std::uint64_t>(args.nodes / 10, 1);
  const std::uint64_t round_step = std::max<std::uint64_t>(args.rounds / 10, 1);
  const auto progress = [&](const char* phase, std::uint64_t step) {
    const bool is_join = phase[0] == 'j';
    if (step % (is_join ? join_step : round_step) == 0) say(fmt::format("{} {}", phase, step));
  };
  if (!hypar::sim::build_overlay(sim, args.nodes, args.rounds, std::chrono::milliseconds(args.join_interval_ms),
                                 progress)) {
    fmt::print(stderr, "hypar-sim: the simulator's event bound stopped the run\n");
    return 1;
  }
  const BuildCost cost{sim.connects(), sim.protocol_messages()};
  const hypar::sim::GraphMetrics metrics = hypar::sim::analyze(sim.views());
  say("analysed");
  const std::size_t degree = std::min<std::size_t>(args.options.active_size, sim.size() - 1);
  const hypar::sim::GraphMetrics baseline = hypar::sim::analyze(
      hypar::sim::random_regular_graph(sim.size(), degree, hypar::mix_seed(args.seed, kBaselineStream)));
  say("baseline analysed");
  if (sim.anomalies() != 0) fmt::print(stderr, "hypar-sim: {} link-model anomalies\n", sim.anomalies());
  print_csv(args, metrics, baseline, degree, cost);
  std::fflush(stdout);
  return write_metrics(args, sim_metrics) ? 0 : 1;
}

// Builds the overlay with keepalive on, crashes args.fail_percent % of the nodes at once, and
// prints how the survivors' overlay repairs, one row per virtual second.
int run_churn(const SimArgs& args) {
  hypar::sim::Config config = sim_config(args);
  hypar::sim::Simulator sim(config);
  std::optional<hypar::sim_app::SimMetrics> sim_metrics;
  if (!args.metrics_out.empty()) sim_metrics.emplace(sim);
  if (!args.quiet) fmt::print(stderr, "hypar-sim churn: building {} nodes, {} rounds\n", args.nodes, args.rounds);
  if (!hypar::sim::build_overlay(sim, args.nodes, args.rounds, std::chrono::milliseconds(args.join_interval_ms))) {
    fmt::print(stderr, "hypar-sim: the simulator's event bound stopped the run\n");
    return 1;
  }
  fmt::print("time_s,alive,connected,symmetric,dead_in_active,full_active,short_by_one,avg_active\n");
  const auto row = [&](long t) {
    const hypar::sim::Health h = hypar::sim::measure_health(sim);
    fmt::print("{},{},{},{},{},{},{},{:.3f}\n", t, h.alive, h.connected, h.symmetric, h.dead_in_active,
               h.full_active, h.short_by_one, h.avg_active);
  };
  row(0);
  hypar::Rng rng(hypar::mix_seed(args.seed, 0xfa11));
  const auto killed = hypar::sim::kill_percent(sim, static_cast<double>(args.fail_percent), rng);
  if (!args.quiet) fmt::print(stderr, "hypar-sim churn: crashed {} nodes at t=0\n", killed.size());
  for (std::uint64_t t = 1; t <= args.observe_s; ++t) {
    if (!sim.run_for(std::chrono::seconds(1))) {
      fmt::print(stderr, "hypar-sim: the simulator's event bound stopped the run\n");
      return 1;
    }
    row(static_cast<long>(t));
  }
  if (sim.anomalies() != 0) fmt::print(stderr, "hypar-sim: {} link-model anomalies\n", sim.anomalies());
  std::fflush(stdout);
  return write_metrics(args, sim_metrics) ? 0 : 1;
}

// Writes the figure if --plot was given; false (after saying why) if it could not be written.
bool write_plot(const SimArgs& args, const std::vector<hypar::plot::Chart>& charts) {
  if (args.plot_path.empty()) return true;
  const std::string error = hypar::plot::write_svg(args.plot_path, charts);
  if (!error.empty()) {
    fmt::print(stderr, "hypar-sim: {}\n", error);
    return false;
  }
  if (!args.quiet) fmt::print(stderr, "hypar-sim: wrote {}\n", args.plot_path);
  return true;
}

// Crashes `count` random live nodes other than `spare` (the fixed sender, if any).
void crash_random(hypar::sim::Simulator& sim, std::uint64_t count, std::size_t spare, hypar::Rng& rng) {
  std::vector<std::size_t> live;
  for (std::size_t i = 0; i < sim.size(); ++i) {
    if (sim.alive(i) && i != spare) live.push_back(i);
  }
  rng.shuffle(std::span(live));
  for (std::size_t i = 0; i < live.size() && i < count; ++i) sim.kill(live[i]);
}

// Builds the overlay with Plumtree on every node, crashes args.fail_percent % of the nodes, then
// runs args.messages broadcast rounds and prints each round's figures.
int run_plumtree(const SimArgs& args) {
  hypar::sim::Config config = sim_config(args);
  hypar::sim::Simulator sim(config);
  hypar::sim::PlumtreeSim plumtree(sim, args.plumtree, args.seed);
  if (!args.quiet) fmt::print(stderr, "hypar-sim plumtree: building {} nodes, {} rounds\n", args.nodes, args.rounds);
  if (!hypar::sim::build_overlay(sim, args.nodes, args.rounds, std::chrono::milliseconds(args.join_interval_ms))) {
    fmt::print(stderr, "hypar-sim: the simulator's event bound stopped the run\n");
    return 1;
  }
  hypar::Rng rng(hypar::mix_seed(args.seed, 0x9105));
  const std::size_t fixed_sender = args.many_senders ? sim.size() : 0;  // sim.size(): none
  const auto crashed = static_cast<std::uint64_t>(static_cast<double>(args.nodes) * static_cast<double>(args.fail_percent) / 100.0 + 0.5);
  crash_random(sim, crashed, fixed_sender, rng);
  if (!args.quiet && crashed > 0) fmt::print(stderr, "hypar-sim plumtree: crashed {} nodes\n", crashed);

  fmt::print("round,reliability,rmr,ldh,payload_msgs,control_msgs\n");
  hypar::plot::Series reliability{"reliability (% of live nodes)", {}};
  hypar::plot::Series rmr{"RMR", {}};
  hypar::plot::Series ldh{"LDH (hops)", {}};
  for (std::uint64_t round = 1; round <= args.messages; ++round) {
    crash_random(sim, args.fail_per_round, fixed_sender, rng);
    std::size_t sender = fixed_sender;
    if (args.many_senders) {
      if (sim.alive_count() == 0) {
        fmt::print(stderr, "hypar-sim: every node has crashed\n");
        return 1;
      }
      do {
        sender = rng.index(sim.size());
      } while (!sim.alive(sender));
    }
    const auto r = hypar::sim::broadcast_round(sim, plumtree, sender, std::chrono::milliseconds(args.round_ms));
    fmt::print("{},{:.2f},{:.4f},{},{},{}\n", round, r.metrics.reliability, r.metrics.rmr, r.metrics.ldh,
               r.metrics.payload_msgs, r.control_msgs);
    const auto x = static_cast<double>(round);
    reliability.points.emplace_back(x, r.metrics.reliability);
    rmr.points.emplace_back(x, r.metrics.rmr);
    ldh.points.emplace_back(x, static_cast<double>(r.metrics.ldh));
  }
  const std::string setup = fmt::format("{} nodes, {}% crashed, seed {}", args.nodes, args.fail_percent, args.seed);
  const std::vector<hypar::plot::Chart> charts = {
      {"Plumtree: reliability per broadcast (" + setup + ")", "broadcast round", "reliability (%)", std::nullopt, 100.0,
       hypar::plot::Corner::bottom_right, {reliability}},
      {"Plumtree: relative message redundancy per broadcast", "broadcast round", "RMR", 0.0, std::nullopt,
       hypar::plot::Corner::top_right, {rmr}},
      {"Plumtree: last delivery hop per broadcast", "broadcast round", "LDH (hops)", 0.0, std::nullopt,
       hypar::plot::Corner::bottom_right, {ldh}},
  };
  if (!write_plot(args, charts)) return 1;
  if (plumtree.decode_errors() != 0) fmt::print(stderr, "hypar-sim: {} undecodable messages\n", plumtree.decode_errors());
  if (sim.anomalies() != 0) fmt::print(stderr, "hypar-sim: {} link-model anomalies\n", sim.anomalies());
  std::fflush(stdout);
  return 0;
}

// The HyParView paper's average reliability for 10..95 % failed nodes (DSN 2007, figure of reliability
// after failures), read off the paper as DESIGN.md records it.
constexpr std::pair<double, double> kPaperReliability[] = {{10, 100},  {20, 100},  {30, 100},   {40, 100},  {50, 100},
                                                           {60, 99.9}, {70, 99.9}, {80, 99.9}, {90, 99.65}, {95, 90.9}};

// What the failures command prints and plots of one level; plain bytes, so a forked child can
// hand it to the parent through a pipe.
struct LevelRow {
  double avg_reliability = 0;
  double first_reliability = 0;
  std::uint64_t msgs_until_full = 0;
  std::uint64_t alive = 0;
  std::uint64_t late_messages = 0;
  std::uint64_t anomalies = 0;
  std::uint64_t orphaned_at_crash = 0;
  std::uint64_t cut_off_at_end = 0;
  std::uint64_t stranded_at_end = 0;
  std::uint64_t stranded_senders = 0;
};
static_assert(std::is_trivially_copyable_v<LevelRow>);

LevelRow row_of(const hypar::sim::FailureResult& r) {
  return {r.avg_reliability, r.reliability.empty() ? 0.0 : r.reliability.front(), r.msgs_until_full, r.alive,
          r.late_messages, r.anomalies, r.orphaned_at_crash, r.cut_off_at_end, r.stranded_at_end, r.stranded_senders};
}

hypar::sim::FailureParams failure_params(const SimArgs& args) {
  hypar::sim::FailureParams params;
  params.nodes = args.nodes;
  params.rounds = args.rounds;
  params.join_interval = std::chrono::milliseconds(args.join_interval_ms);
  params.messages = args.messages;
  params.round_length = std::chrono::milliseconds(args.round_ms);
  params.seed = args.seed;
  params.options = args.options;
  params.crash_notice = args.crash_notice_on_send ? hypar::sim::CrashNotice::on_send : hypar::sim::CrashNotice::reset;
  params.latency_min = args.latency_min;
  params.latency_max = args.latency_max;
  params.broadcast = args.broadcast_plumtree ? hypar::sim::Broadcast::plumtree : hypar::sim::Broadcast::flood;
  params.plumtree = args.plumtree;
  return params;
}

// Runs every level and calls report(level, row) in the order of args.fail_levels. By default
// the overlay is built once and each level crashes its own copy in a forked child, --jobs at
// once; every level starts from the same built overlay either way, so the rows are the same as
// with --build-per-level. Returns "" or the error that stopped the run.
std::string run_levels(const SimArgs& args, const std::function<void(std::uint64_t, const LevelRow&)>& report) {
  const hypar::sim::FailureParams params = failure_params(args);
  const Stopwatch wall;
  const auto progress_of = [&](std::uint64_t level) {
    return [&wall, &args, level](const char* phase, std::uint64_t step) {
      if (args.quiet || phase[0] == 'j' || (phase[0] == 'm' && step % 100 != 0)) return;
      fmt::print(stderr, "[{:7.1f}s wall] {}% failed: {} {}\n", wall.seconds(), level, phase, step);
    };
  };
  const std::vector<std::uint64_t>& levels = args.fail_levels;
  if (args.build_per_level) {
    for (const std::uint64_t level : levels) {
      report(level, row_of(hypar::sim::run_failure_level(params, static_cast<double>(level), progress_of(level))));
    }
    return {};
  }
  const auto build_progress = [&](const char* phase, std::uint64_t step) {
    if (args.quiet || phase[0] == 'j') return;
    fmt::print(stderr, "[{:7.1f}s wall] building the overlay once: {} {}\n", wall.seconds(), phase, step);
  };
  hypar::sim::FailureOverlay overlay(params, build_progress);
  const unsigned cpus = std::max(1U, std::thread::hardware_concurrency());
  const auto jobs = static_cast<unsigned>(args.jobs == 0 ? cpus : args.jobs);
  return hypar::sim_app::fork_each(
      levels.size(), jobs,
      [&](std::size_t i) {  // in the child: its own copy of the overlay
        const LevelRow row = row_of(overlay.crash_and_broadcast(static_cast<double>(levels[i]), progress_of(levels[i])));
        return std::string(reinterpret_cast<const char*>(&row), sizeof row);
      },
      [&](std::size_t i, const std::string& bytes) {
        LevelRow row;
        if (bytes.size() != sizeof row) throw std::runtime_error("a level's child process sent a short result");
        std::memcpy(&row, bytes.data(), sizeof row);
        report(levels[i], row);
      });
}

// The paper's failure experiment, every level from the same stabilised overlay.
int run_failures(const SimArgs& args) {
  const Stopwatch wall;
  hypar::plot::Series ours{"hypar (this run)", {}};
  hypar::plot::Series first{"hypar: first broadcast", {}};
  hypar::plot::Series paper{"HyParView paper (average)", {kPaperReliability, std::end(kPaperReliability)}};
  fmt::print("failed_pct,avg_reliability,first_msg_reliability,msgs_until_full,orphaned_at_crash,cut_off_at_end,stranded_at_end,stranded_senders\n");
  std::fflush(stdout);
  const std::string error = run_levels(args, [&](std::uint64_t level, const LevelRow& r) {
    fmt::print("{},{:.3f},{:.3f},{},{},{},{},{}\n", level, r.avg_reliability, r.first_reliability, r.msgs_until_full,
               r.orphaned_at_crash, r.cut_off_at_end, r.stranded_at_end, r.stranded_senders);
    std::fflush(stdout);
    if (r.anomalies != 0) fmt::print(stderr, "hypar-sim: {} link-model anomalies\n", r.anomalies);
    if (!args.quiet) {
      fmt::print(stderr, "[{:7.1f}s wall] {}% failed: {} alive, {} late flood copies\n", wall.seconds(), level,
                 r.alive, r.late_messages);
    }
    ours.points.emplace_back(static_cast<double>(level), r.avg_reliability);
    first.points.emplace_back(static_cast<double>(level), r.first_reliability);
  });
  if (!error.empty()) {
    fmt::print(stderr, "hypar-sim: {}\n", error);
    return 1;
  }
  // As in the paper: the averages, on an axis zoomed to them; then the first broadcast after the crash.
  const std::vector<hypar::plot::Chart> charts = {
      {fmt::format("Reliability after failures ({} nodes, {} broadcasts per level, seed {}{})", args.nodes,
                   args.messages, args.seed,
                   std::string(args.crash_notice_on_send ? ", crashes noticed on send" : "") +
                       (args.broadcast_plumtree ? ", Plumtree" : "")),
       "failed nodes (%)", "average reliability (% of live nodes)", std::nullopt, 100.0,
       hypar::plot::Corner::bottom_left, {ours, paper}},
      {"The first broadcast after the crash", "failed nodes (%)", "reliability (% of live nodes)", 0.0, 100.0,
       hypar::plot::Corner::bottom_left, {first}},
  };
  return write_plot(args, charts) ? 0 : 1;
}

// Cuts the overlay in two for args.cut_s seconds, heals it, and prints a row per virtual second.
int run_partition(const SimArgs& args) {
  hypar::sim::PartitionParams params;
  params.nodes = args.nodes;
  params.rounds = args.rounds;
  params.join_interval = std::chrono::milliseconds(args.join_interval_ms);
  params.split = args.split;
  params.cut = std::chrono::seconds(args.cut_s);
  params.observe = std::chrono::seconds(args.observe_s);
  params.seed = args.seed;
  params.options = args.options;
  params.latency_min = args.latency_min;
  params.latency_max = args.latency_max;
  if (!args.quiet) fmt::print(stderr, "hypar-sim partition: building {} nodes, {} rounds\n", args.nodes, args.rounds);
  fmt::print("time_s,phase,components,cross_links,full_views,messages,link_changes\n");
  const auto row = [](const hypar::sim::PartitionSample& s) {
    const char* phase = s.time_s == 0 ? "before" : s.healed ? "healed" : "cut";
    fmt::print("{},{},{},{},{},{},{}\n", s.time_s, phase, s.components, s.cross_links, s.full_views, s.messages,
               s.link_changes);
  };
  const hypar::sim::PartitionResult r = hypar::sim::run_partition(params, row);
  if (!args.quiet) {
    const auto show = [](const std::optional<std::uint64_t>& s) { return s ? fmt::format("{} s", *s) : "never"; };
    fmt::print(stderr, "hypar-sim partition: one component {} after the heal, full views back {} after it\n",
               show(r.merged_after_s), show(r.recovered_after_s));
  }
  if (r.anomalies != 0) fmt::print(stderr, "hypar-sim: {} link-model anomalies\n", r.anomalies);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = hypar::sim_app::parse_args(argc, argv);
  const hypar::cli::Parsed outcome{.help = parsed.help, .version = parsed.version, .error = parsed.error};
  if (const auto status = hypar::cli::exit_status(outcome, "hypar-sim", parsed.usage)) return *status;
  try {
    const SimArgs& args = *parsed.args;
    switch (args.command) {
      case hypar::sim_app::Command::graph: return run_graph(args);
      case hypar::sim_app::Command::churn: return run_churn(args);
      case hypar::sim_app::Command::plumtree: return run_plumtree(args);
      case hypar::sim_app::Command::failures: return run_failures(args);
      case hypar::sim_app::Command::partition: return run_partition(args);
    }
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "hypar-sim: {}\n", e.what());
    return 1;
  }
}
