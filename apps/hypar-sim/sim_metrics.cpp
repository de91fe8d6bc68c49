// SPDX-License-Identifier: Apache-2.0
#include "sim_metrics.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace hypar::sim_app {

SimMetrics::SimMetrics(sim::Simulator& sim) : sim_(sim) {
  sim_.on_input([this](const sim::InputEvent& e) {
    const bool known_peer = e.peer != sim::InputEvent::kNoNode;
    switch (e.kind) {
      case sim::InputKind::received:
        if (known_peer) {
          of(e.node).on_received(sim_.address_of(e.peer), *e.message);
          of(e.peer).on_sent(sim_.address_of(e.peer), sim_.address_of(e.node), *e.message);
        }
        break;
      case sim::InputKind::timer: of(e.node).on_timer(*e.timer); break;
      case sim::InputKind::link_down:
      case sim::InputKind::connect_failed:
        if (known_peer) of(e.node).on_link_gone(sim_.address_of(e.peer));
        break;
      case sim::InputKind::link_up: break;
    }
  });
  sim_.on_app_event([this](std::size_t node, const hyparview::Output& output, Instant) { of(node).on_output(output); });
}

hyparview::MembershipCounters& SimMetrics::of(std::size_t node) {
  if (node >= counters_.size()) counters_.resize(node + 1);
  return counters_[node];
}

std::string SimMetrics::render() const {
  prom::Families out;
  for (std::size_t i = 0; i < sim_.size(); ++i) {
    const prom::Labels labels{{"node", sim_.address_of(i).to_string()}};
    out.gauge("hypar_up", "1 while the simulated node runs, 0 once it crashed.").add(labels, sim_.alive(i) ? 1 : 0);
    const hyparview::MembershipCounters none;
    const bool alive = sim_.alive(i);
    hyparview::write_prometheus(out, i < counters_.size() ? counters_[i] : none,
                                alive ? sim_.core(i).active_view().size() : 0,
                                alive ? sim_.core(i).passive_view().size() : 0, labels);
  }
  return out.render();
}

std::string SimMetrics::write(const std::string& path) const {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return "cannot write " + path + ": " + std::strerror(errno);
  file << render();
  file.close();
  if (!file) return "cannot write " + path + ": " + std::strerror(errno);
  return {};
}

}  // namespace hypar::sim_app
