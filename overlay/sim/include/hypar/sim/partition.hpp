// SPDX-License-Identifier: Apache-2.0
#pragma once
// The partition experiment (hypar-sim partition and the healing tests): build an overlay, cut it
// silently into two sides for a while (Simulator::cut), heal, and follow one row per virtual
// second until the sides merge again.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "hypar/hyparview/options.hpp"
#include "hypar/sim/simulator.hpp"
#include "hypar/time.hpp"

namespace hypar::sim {

// How the nodes are split: `percent` % of them stay on side 0 (1..99), or, when `isolated` > 0,
// exactly that many nodes form side 1.
struct Split {
  std::uint64_t percent = 50;
  std::uint64_t isolated = 0;
};
// "50" -> 50 %, "1n" -> one isolated node; nullopt when malformed or out of range.
std::optional<Split> parse_split(std::string_view text);

// The side of every node: side 1 is a random set (seeded by `seed`) of the size the split says.
std::vector<std::uint8_t> choose_sides(std::size_t nodes, Split split, std::uint64_t seed);

struct PartitionParams {
  std::size_t nodes = 1000;
  std::uint64_t rounds = 5;                  // shuffle periods after the last join, before the cut
  Duration join_interval = milliseconds(10);
  Split split;
  Duration cut = seconds(30);               // 0: no cut (the steady-state baseline)
  Duration observe = seconds(120);           // after the heal
  std::uint64_t seed = 1;
  hyparview::Options options;                // keepalive must be on: it is what notices the cut
  Duration latency_min = milliseconds(1);    // the simulator's link latency (Config)
  Duration latency_max = milliseconds(10);
};

// One virtual second; `time_s` counts from the cut (0: the row just before it).
struct PartitionSample {
  std::uint64_t time_s = 0;
  bool healed = false;
  std::size_t components = 0;   // of the live undirected active-view graph
  std::size_t cross_links = 0;  // active links (unordered pairs) between the two sides
  std::size_t full_views = 0;   // nodes whose active view is full
  std::uint64_t messages = 0;   // HyParView messages but keepalives sent during this second
  std::uint64_t link_changes = 0;  // PeerUp + PeerDown events during this second
};

struct PartitionResult {
  std::vector<PartitionSample> samples;
  std::size_t full_views_before = 0;
  // Seconds after the heal until the overlay was one component (nullopt: never in the run), and
  // until it also had at least as many full views as just before the cut, less 1 % of the nodes.
  std::optional<std::uint64_t> merged_after_s;
  std::optional<std::uint64_t> recovered_after_s;
  std::uint64_t anomalies = 0;
};

// Runs the experiment; `on_sample` (if set) sees each row as it is measured.
// Throws std::runtime_error if the simulator's event bound stops a run.
PartitionResult run_partition(const PartitionParams& params,
                              const std::function<void(const PartitionSample&)>& on_sample = {});

// Snapshot figures used by the rows, exposed for tests.
std::size_t count_components(const Simulator& sim);
// Live nodes in the largest component of the live undirected active-view graph.
std::size_t largest_component(const Simulator& sim);
std::size_t count_cross_links(const Simulator& sim, const std::vector<std::uint8_t>& side);
std::size_t count_full_views(const Simulator& sim);

}  // namespace hypar::sim
