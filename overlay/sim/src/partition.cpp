// SPDX-License-Identifier: Apache-2.0
#include "hypar/sim/partition.hpp"

#include <algorithm>
#include <charconv>
#include <numeric>
#include <stdexcept>

#include "hypar/rng.hpp"
#include "hypar/sim/scenarios.hpp"

namespace hypar::sim {

std::optional<Split> parse_split(std::string_view text) {
  const bool isolated = !text.empty() && text.back() == 'n';
  if (isolated) text.remove_suffix(1);
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  if (isolated) {
    if (value < 1) return std::nullopt;
    return Split{0, value};
  }
  if (value < 1 || value > 99) return std::nullopt;
  return Split{value, 0};
}

std::vector<std::uint8_t> choose_sides(std::size_t nodes, Split split, std::uint64_t seed) {
  std::size_t other = split.isolated > 0
                          ? static_cast<std::size_t>(split.isolated)
                          : nodes - (nodes * static_cast<std::size_t>(split.percent) + 50) / 100;
  other = std::min(other, nodes);
  std::vector<std::size_t> order(nodes);
  std::iota(order.begin(), order.end(), std::size_t{0});
  Rng rng(mix_seed(seed, 0x5b117));
  rng.shuffle(std::span<std::size_t>(order));
  std::vector<std::uint8_t> side(nodes, 0);
  for (std::size_t i = 0; i < other; ++i) side[order[i]] = 1;
  return side;
}

namespace {

// Union-find over node indices.
std::size_t find_root(std::vector<std::size_t>& parent, std::size_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

// Each node's component root in the live undirected active-view graph (dead nodes: themselves).
std::vector<std::size_t> component_roots(const Simulator& sim) {
  std::vector<std::size_t> parent(sim.size());
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  for (std::size_t node = 0; node < sim.size(); ++node) {
    if (!sim.alive(node)) continue;
    for (std::size_t peer : sim.active_view(node)) {
      if (sim.alive(peer)) parent[find_root(parent, node)] = find_root(parent, peer);
    }
  }
  for (std::size_t node = 0; node < sim.size(); ++node) parent[node] = find_root(parent, node);
  return parent;
}

}  // namespace

std::size_t count_components(const Simulator& sim) {
  const std::vector<std::size_t> root = component_roots(sim);
  std::size_t components = 0;
  for (std::size_t node = 0; node < sim.size(); ++node) components += sim.alive(node) && root[node] == node;
  return components;
}

std::size_t largest_component(const Simulator& sim) {
  const std::vector<std::size_t> root = component_roots(sim);
  std::vector<std::size_t> size(sim.size(), 0);
  std::size_t largest = 0;
  for (std::size_t node = 0; node < sim.size(); ++node) {
    if (sim.alive(node)) largest = std::max(largest, ++size[root[node]]);
  }
  return largest;
}

std::size_t count_cross_links(const Simulator& sim, const std::vector<std::uint8_t>& side) {
  std::size_t links = 0;
  for (std::size_t node = 0; node < sim.size(); ++node) {
    for (std::size_t peer : sim.active_view(node)) {
      if (!sim.alive(peer) || side.at(node) == side.at(peer)) continue;
      // Count a pair once: from its lower end, or from the end that alone lists it.
      const auto back = sim.active_view(peer);
      const bool mutual = std::find(back.begin(), back.end(), node) != back.end();
      if (!mutual || node < peer) ++links;
    }
  }
  return links;
}

std::size_t count_full_views(const Simulator& sim) {
  if (sim.size() == 0) return 0;
  const std::size_t full = sim.core(0).options().active_size;
  std::size_t count = 0;
  for (std::size_t node = 0; node < sim.size(); ++node) {
    if (sim.alive(node) && sim.active_view(node).size() == full) ++count;
  }
  return count;
}

PartitionResult run_partition(const PartitionParams& params,
                              const std::function<void(const PartitionSample&)>& on_sample) {
  Config config;
  config.seed = params.seed;
  config.options = params.options;
  config.latency_min = params.latency_min;
  config.latency_max = params.latency_max;
  Simulator sim(config);
  if (!build_overlay(sim, params.nodes, params.rounds, params.join_interval)) {
    throw std::runtime_error("partition: the simulator's event bound stopped the build");
  }
  const std::vector<std::uint8_t> side = choose_sides(sim.size(), params.split, params.seed);
  PartitionResult result;
  std::uint64_t last_messages = sim.protocol_messages();
  std::uint64_t last_changes = sim.total_counters().peer_up + sim.total_counters().peer_down;
  const auto sample = [&](std::uint64_t t, bool healed) {
    PartitionSample s;
    s.time_s = t;
    s.healed = healed;
    s.components = count_components(sim);
    s.cross_links = count_cross_links(sim, side);
    s.full_views = count_full_views(sim);
    const std::uint64_t changes = sim.total_counters().peer_up + sim.total_counters().peer_down;
    s.messages = sim.protocol_messages() - last_messages;
    s.link_changes = changes - last_changes;
    last_messages = sim.protocol_messages();
    last_changes = changes;
    result.samples.push_back(s);
    if (on_sample) on_sample(s);
    return s;
  };
  result.full_views_before = sample(0, false).full_views;
  const std::size_t slack = sim.size() / 100;
  const std::size_t recovered_views = result.full_views_before > slack ? result.full_views_before - slack : 0;

  const auto cut_s = static_cast<std::uint64_t>(std::chrono::ceil<std::chrono::seconds>(params.cut).count());
  const auto observe_s = static_cast<std::uint64_t>(std::chrono::ceil<std::chrono::seconds>(params.observe).count());
  if (cut_s > 0) sim.cut(side);  // 0: no cut, the steady-state baseline
  for (std::uint64_t t = 1; t <= cut_s + observe_s; ++t) {
    if (t == cut_s + 1 && cut_s > 0) sim.heal();  // at the start of the first healed second
    if (!sim.run_for(seconds(1))) throw std::runtime_error("partition: the simulator's event bound stopped the run");
    const bool healed = t > cut_s;
    const PartitionSample s = sample(t, healed);
    if (!healed) continue;
    if (!result.merged_after_s && s.components == 1) result.merged_after_s = t - cut_s;
    if (!result.recovered_after_s && s.components == 1 && s.full_views >= recovered_views) {
      result.recovered_after_s = t - cut_s;
    }
  }
  result.anomalies = sim.anomalies();
  return result;
}

}  // namespace hypar::sim
