// SPDX-License-Identifier: Apache-2.0
// Plumtree over the simulated HyParView overlay at 1,000 nodes: exactly-once delivery, a tree
// that settles to (almost) no redundant payload, and recovery after a mass crash. Several seeds.
// Each run prints a summary line; the figures are in docs/benchmarks.md.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "hypar/sim/health.hpp"
#include "hypar/sim/plumtree_sim.hpp"
#include "hypar/sim/scenarios.hpp"

using namespace hypar;
using sim::PlumtreeSim;
using sim::RoundResult;
using sim::Simulator;

namespace {

// Virtual time between two broadcasts: ample for a tree of 25+ hops plus two graft timeouts.
constexpr Duration kRound = milliseconds(500);
// Broadcasts after which the tree is considered settled (the first one prunes most redundant links).
constexpr std::size_t kSettleRounds = 5;

sim::Config config_for(std::uint64_t seed) {
  sim::Config config;  // default options: keepalive on, so crashes are noticed
  config.seed = seed;
  return config;
}

// A simulator with Plumtree attached and an overlay of `nodes` nodes built through node 0.
struct World {
  World(std::uint64_t seed, std::size_t nodes) : sim(config_for(seed)), plumtree(sim, plumtree::Options{}, seed) {
    // Broadcasts start once the join swaps are over: links swapped under the tree cost redundant payload.
    REQUIRE(sim::build_overlay(sim, nodes, std::max<std::uint64_t>(5, sim::join_swap_rounds(hyparview::Options{})),
                               milliseconds(10)));
  }
  Simulator sim;
  PlumtreeSim plumtree;
};

std::size_t random_live(const Simulator& s, Rng& rng) {
  for (;;) {
    const std::size_t node = rng.index(s.size());
    if (s.alive(node)) return node;
  }
}

struct Summary {
  double min_reliability = 100;
  double max_settled_rmr = 0;
  double sum_settled_rmr = 0;
  std::size_t settled = 0;
  std::uint16_t max_ldh = 0;
  void add(std::size_t round, const RoundResult& r) {
    min_reliability = std::min(min_reliability, r.metrics.reliability);
    max_ldh = std::max(max_ldh, r.metrics.ldh);
    if (round < kSettleRounds) return;
    max_settled_rmr = std::max(max_settled_rmr, r.metrics.rmr);
    sum_settled_rmr += r.metrics.rmr;
    ++settled;
  }
  void print(const char* what, std::uint64_t seed) const {
    std::printf("%s seed=%llu: min reliability %.2f%%, settled RMR mean %.4f max %.4f, max LDH %u\n", what,
                static_cast<unsigned long long>(seed), min_reliability,
                settled ? sum_settled_rmr / static_cast<double>(settled) : 0.0, max_settled_rmr, max_ldh);
  }
};

// What must hold for every broadcast: nobody delivers twice, nothing is undecodable.
void check_clean(const World& w, const RoundResult& r) {
  CHECK(r.duplicate_deliveries == 0);
  CHECK(w.plumtree.decode_errors() == 0);
  CHECK(w.plumtree.unknown_deliveries() == 0);
}

// 100 broadcasts from node 0 of a 1,000-node overlay: every node delivers each exactly once, and
// once the tree has settled a broadcast costs less than 0.1 redundant payload per node.
void one_sender_run(std::uint64_t seed) {
  World w(seed, 1000);
  Summary summary;
  for (std::size_t round = 0; round < 100; ++round) {
    const RoundResult r = sim::broadcast_round(w.sim, w.plumtree, 0, kRound);
    summary.add(round, r);
    INFO("seed " << seed << " round " << round);
    CHECK(r.metrics.reliability == 100.0);
    CHECK(w.plumtree.records()[r.record].reached == 1000);
    check_clean(w, r);
    if (round >= kSettleRounds) CHECK(r.metrics.rmr < 0.1);
  }
  CHECK(w.sim.anomalies() == 0);
  summary.print("one sender", seed);
}

}  // namespace

// One test case per seed keeps each under 30 s in an ASan build as well.
TEST_CASE("plumtree sim: 1,000 nodes, 100 broadcasts from one sender, seed 1: all delivered once, RMR < 0.1") {
  one_sender_run(1);
}

TEST_CASE("plumtree sim: 1,000 nodes, 100 broadcasts from one sender, seed 2: all delivered once, RMR < 0.1") {
  one_sender_run(2);
}

TEST_CASE("plumtree sim: 1,000 nodes, 100 broadcasts from random senders share one tree") {
  const std::uint64_t seed = 3;
  World w(seed, 1000);
  Rng rng(seed);
  Summary summary;
  for (std::size_t round = 0; round < 100; ++round) {
    const RoundResult r = sim::broadcast_round(w.sim, w.plumtree, random_live(w.sim, rng), kRound);
    summary.add(round, r);
    INFO("round " << round);
    CHECK(r.metrics.reliability == 100.0);
    check_clean(w, r);
    if (round >= kSettleRounds) CHECK(r.metrics.rmr < 0.1);
  }
  summary.print("random senders", seed);
}

TEST_CASE("plumtree sim: after 20% of 1,000 nodes crash mid-run, reliability is back to 100% within 2 rounds") {
  constexpr std::size_t kRecoveryRounds = 2;
  for (std::uint64_t seed : {1, 2}) {
    World w(seed, 1000);
    Rng rng(seed);
    for (std::size_t round = 0; round < 20; ++round) {
      const RoundResult r = sim::broadcast_round(w.sim, w.plumtree, random_live(w.sim, rng), kRound);
      REQUIRE(r.metrics.reliability == 100.0);
    }
    REQUIRE(sim::kill_percent(w.sim, 20, rng).size() == 200);
    Summary summary;
    for (std::size_t round = 0; round < 30; ++round) {
      const RoundResult r = sim::broadcast_round(w.sim, w.plumtree, random_live(w.sim, rng), kRound);
      summary.add(round, r);
      INFO("seed " << seed << " round " << round << " after the crash");
      check_clean(w, r);
      if (round >= kRecoveryRounds) CHECK(r.metrics.reliability == 100.0);
      if (round >= kSettleRounds) CHECK(r.metrics.rmr < 0.1);
    }
    summary.print("after 20% crash", seed);
  }
}

TEST_CASE("plumtree sim: the same seed gives the same run") {
  auto run = [](std::uint64_t seed) {
    World w(seed, 200);
    Rng rng(seed);
    std::vector<double> figures;
    for (std::size_t round = 0; round < 10; ++round) {
      const RoundResult r = sim::broadcast_round(w.sim, w.plumtree, random_live(w.sim, rng), kRound);
      figures.push_back(r.metrics.rmr);
      figures.push_back(r.metrics.ldh);
      figures.push_back(static_cast<double>(r.control_msgs));
    }
    figures.push_back(static_cast<double>(w.sim.trace_hash()));
    return figures;
  };
  CHECK(run(4) == run(4));
  CHECK(run(4) != run(5));
}
