// SPDX-License-Identifier: Apache-2.0
// Flooding over the simulated overlay (FloodSim), the simulator's crash-notice models and held
// timers, and the HyParView paper's failure experiment at 1,000 nodes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

#include "hypar/sim/failure_experiment.hpp"
#include "hypar/sim/flood_sim.hpp"
#include "hypar/sim/scenarios.hpp"

using namespace hypar;
using sim::FloodSim;
using sim::Simulator;

namespace {

sim::Config quiet_config(std::uint64_t seed, sim::CrashNotice notice = sim::CrashNotice::reset) {
  sim::Config config;
  config.seed = seed;
  config.crash_notice = notice;
  config.options.keepalive_interval = Duration::zero();
  return config;
}

bool is_active(const Simulator& s, std::size_t node, std::size_t peer) {
  const auto view = s.active_view(node);
  return std::find(view.begin(), view.end(), peer) != view.end();
}

}  // namespace

TEST_CASE("crash notice: reset tells the neighbours at once, on_send only the neighbour that sends") {
  for (const auto notice : {sim::CrashNotice::reset, sim::CrashNotice::on_send}) {
    Simulator s(quiet_config(1, notice));
    REQUIRE(sim::build_overlay(s, 40, 5, milliseconds(10)));
    s.hold_timers(hyparview::TimerKind::shuffle);  // so that nobody sends unless told to
    REQUIRE(s.run_for(seconds(1)));                 // and the last shuffles are over
    const std::size_t victim = 7;
    const std::vector<std::size_t> neighbours = s.active_view(victim);
    REQUIRE(neighbours.size() >= 2);
    for (std::size_t n : neighbours) REQUIRE(is_active(s, n, victim));

    s.kill(victim);
    REQUIRE(s.run_for(seconds(2)));
    for (std::size_t n : neighbours) CHECK(is_active(s, n, victim) == (notice == sim::CrashNotice::on_send));
    if (notice == sim::CrashNotice::reset) continue;
    s.send_app(neighbours[0], s.address_of(victim), {1, 2, 3, 4});  // only this neighbour sends to the dead node
    REQUIRE(s.run_for(seconds(1)));
    CHECK_FALSE(is_active(s, neighbours[0], victim));
    for (std::size_t i = 1; i < neighbours.size(); ++i) CHECK(is_active(s, neighbours[i], victim));
    CHECK(s.anomalies() == 0);
  }
}

TEST_CASE("held timers: no shuffle fires while held, and all fire once released") {
  Simulator s(quiet_config(2));
  REQUIRE(sim::build_overlay(s, 50, 1, milliseconds(10)));
  std::size_t shuffles = 0, others = 0;
  s.on_input([&](const sim::InputEvent& e) {
    if (e.kind != sim::InputKind::timer) return;
    if (e.timer->kind == hyparview::TimerKind::shuffle) {
      ++shuffles;
    } else {
      ++others;
    }
  });
  s.hold_timers(hyparview::TimerKind::shuffle);
  REQUIRE(s.run_for(seconds(60)));
  CHECK(shuffles == 0);
  CHECK(others > 0);                // sweeps still run
  CHECK(s.held_timers() == 50);     // one pending shuffle timer per node, set aside
  s.release_timers();
  REQUIRE(s.run_for(milliseconds(1)));
  CHECK(shuffles == 50);
  CHECK(s.held_timers() == 0);
}

TEST_CASE("flood: every node delivers each broadcast, and each link carries it once each way but the first") {
  Simulator s(quiet_config(3));
  FloodSim flood(s);
  REQUIRE(sim::build_overlay(s, 300, 10, milliseconds(10)));
  std::size_t degree_sum = 0;
  for (std::size_t i = 0; i < s.size(); ++i) degree_sum += s.active_view(i).size();
  for (std::size_t origin : {0, 17, 299}) {
    flood.broadcast(origin);
    REQUIRE(s.run_for(milliseconds(500)));
    CHECK(flood.reached() == 300);
    CHECK(flood.reliability() == 100.0);
    // The origin sends to all its peers, every other node to all but the one it heard first from.
    CHECK(flood.messages_sent() == degree_sum - (s.size() - 1));
  }
  CHECK(flood.broadcasts() == 3);
  CHECK(flood.late_messages() == 0);
  CHECK(flood.malformed_messages() == 0);
}

TEST_CASE("flood: a broadcast cut short by the next one counts its late copies, not as deliveries") {
  Simulator s(quiet_config(4));
  FloodSim flood(s);
  REQUIRE(sim::build_overlay(s, 200, 5, milliseconds(10)));
  flood.broadcast(0);
  flood.broadcast(1);  // before any copy of the first arrived
  REQUIRE(s.run_for(milliseconds(500)));
  CHECK(flood.reached() == 200);
  CHECK(flood.late_messages() > 0);
}

namespace {

sim::FailureParams thousand_nodes(std::uint64_t messages) {
  sim::FailureParams p;
  p.nodes = 1000;
  p.rounds = 20;  // the experiment's 50 make no difference at this size and double the time
  p.messages = messages;
  p.seed = 1;
  return p;
}

void check_clean(const sim::FailureResult& r) {
  CHECK(r.anomalies == 0);
  CHECK(r.late_messages == 0);
}

}  // namespace

// One test case per level or two keeps each under 30 s in an ASan build as well.
TEST_CASE("failures: 1,000 nodes, 10% and 30% failed: average reliability >= 99%") {
  for (double pct : {10.0, 30.0}) {
    const sim::FailureResult r = sim::run_failure_level(thousand_nodes(50), pct);
    INFO(pct << "% failed: average " << r.avg_reliability);
    CHECK(r.alive == static_cast<std::size_t>(1000 - 10 * pct));
    CHECK(r.reliability.size() == 50);
    CHECK(r.avg_reliability >= 99.0);
    CHECK(r.msgs_until_full >= 1);
    CHECK(r.msgs_until_full <= 5);
    check_clean(r);
  }
}

TEST_CASE("failures: 1,000 nodes, 50% failed: average reliability >= 99%, full again within 5 broadcasts") {
  const sim::FailureResult r = sim::run_failure_level(thousand_nodes(50), 50);
  CHECK(r.avg_reliability >= 99.0);
  CHECK(r.msgs_until_full >= 1);
  CHECK(r.msgs_until_full <= 5);
  CHECK(r.reliability.back() == 100.0);
  check_clean(r);
}

TEST_CASE("failures: 1,000 nodes: 80 and 90% failed are repaired within the run, 95% is the worst") {
  const sim::FailureResult r80 = sim::run_failure_level(thousand_nodes(30), 80);
  const sim::FailureResult r90 = sim::run_failure_level(thousand_nodes(30), 90);
  const sim::FailureResult r95 = sim::run_failure_level(thousand_nodes(30), 95);
  INFO("averages " << r80.avg_reliability << " " << r90.avg_reliability << " " << r95.avg_reliability);
  // Repaired; the first broadcasts, which reach almost nobody, weigh on the average. (At 90 % a
  // survivor whose spares all died re-joins, and one whose re-join timer finds new spares asks them.)
  // How many broadcasts the last survivors wait for depends on the seed: 2 to 22 at 90 % over
  // seeds 1-6 (50 broadcasts), so the bound is the run, not a few broadcasts.
  for (const sim::FailureResult* r : {&r80, &r90}) {
    CHECK(r->reliability.back() == 100.0);
    CHECK(r->msgs_until_full >= 1);
    CHECK(r->msgs_until_full < r->reliability.size());
  }
  // A broadcast from a stranded survivor (no live node in its active view) reaches its sender
  // alone; one from any other survivor reaches a neighbour too. Stranded survivors exist at 95 %.
  for (const sim::FailureResult* r : {&r90, &r95}) {
    const double sender_alone = 100.0 / static_cast<double>(r->alive);
    const auto alone = std::count_if(r->reliability.begin(), r->reliability.end(),
                                     [&](double reliability) { return reliability <= sender_alone + 1e-9; });
    CHECK(r->stranded_senders == static_cast<std::uint64_t>(alone));
  }
  CHECK(r95.stranded_at_end + r95.stranded_senders > 0);
  CHECK(r80.avg_reliability > r95.avg_reliability);
  CHECK(r90.avg_reliability > r95.avg_reliability);
  CHECK(r95.avg_reliability < 99.0);
  CHECK(r95.avg_reliability > 50.0);  // the survivors still mostly find each other
  check_clean(r95);
}

TEST_CASE("failures: crashes noticed only on send leave nodes whose neighbours all died unreached") {
  sim::FailureParams p = thousand_nodes(20);
  const sim::FailureResult reset = sim::run_failure_level(p, 50);
  p.crash_notice = sim::CrashNotice::on_send;
  const sim::FailureResult on_send = sim::run_failure_level(p, 50);
  CHECK(on_send.reliability.front() < reset.reliability.front());
  CHECK(on_send.avg_reliability < reset.avg_reliability);
  check_clean(on_send);
}

TEST_CASE("failures: the same seed gives the same run, another seed another") {
  auto run = [](std::uint64_t seed) {
    sim::FailureParams p;
    p.nodes = 300;
    p.rounds = std::max<std::uint64_t>(10, sim::join_swap_rounds(p.options));
    p.messages = 20;
    p.seed = seed;
    // 90 %: at 80 % every seed gives the same run over the swapped overlay (the first broadcast
    // reaches its origin only, every later one everybody), so the seed would not show.
    return sim::run_failure_level(p, 90).reliability;
  };
  const auto a = run(7);
  CHECK(a == run(7));
  CHECK(a != run(8));
  CHECK(a.size() == 20);
}
